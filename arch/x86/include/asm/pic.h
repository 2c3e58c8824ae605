/* The legacy 8259A PICs (arch/x86/pic.c). */
#ifndef ASM_PIC_H
#define ASM_PIC_H

/* Remaps both PICs away from the exception vectors and masks all lines. */
void pic_disable(void);

#endif
