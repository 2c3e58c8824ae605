/* Shared main() for the Check unit-test binaries: see unit.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (const struct unit_case *c = unit_cases; c->name; c++)
			printf("%s\n", c->name);
		return 0;
	}

	Suite *s = suite_create(argv[0]);
	int selected = 0;
	for (const struct unit_case *c = unit_cases; c->name; c++) {
		if (argc > 1 && strcmp(argv[1], c->name) != 0)
			continue;
		TCase *tc = tcase_create(c->name);
		tcase_add_test(tc, c->test);
		suite_add_tcase(s, tc);
		selected++;
	}
	if (!selected) {
		fprintf(stderr, "%s: no test named '%s'\n", argv[0], argc > 1 ? argv[1] : "");
		return 2;
	}
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_VERBOSE);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
