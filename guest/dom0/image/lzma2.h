/*
 * LZMA2 (the filter XZ uses, ID 0x21) decoding, one-shot (lzma2.c).
 * Decodes the chunks at b->in + b->in_pos up to and including the end
 * marker (control byte 0x00), appending to b->out at b->out_pos; the
 * output buffer is the dictionary, so a match may reach back to the
 * last dictionary reset and no further. Advances in_pos and out_pos.
 * Errors as decode.h, messages prefixed "xz: " (the only container that
 * carries LZMA2).
 */
#ifndef DOM0_IMAGE_LZMA2_H
#define DOM0_IMAGE_LZMA2_H

#include "decode.h"

int lzma2_decode(struct dec_buf *b);

#endif
