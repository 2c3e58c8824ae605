; Every SIMD register in and out (contract in simd.h). Assembly, not C:
; the guests are compiled -mgeneral-regs-only, and these routines must put
; exact values into exact registers.

bits 64
section .text

; struct simd_state offsets (simd.h)
%define S_MM 0
%define S_XMM 64
%define S_YMM_HI 320
%define S_MXCSR 576
%define S_FCW 580

; void simd_load_regs(const struct simd_state *s /* rdi */, bool avx /* esi */)
global simd_load_regs
simd_load_regs:
	fldcw [rdi + S_FCW]
	ldmxcsr [rdi + S_MXCSR]
%assign i 0
%rep 8
	movq mm %+ i, [rdi + S_MM + 8 * i]
%assign i i + 1
%endrep
%assign i 0
%rep 16
	movdqu xmm %+ i, [rdi + S_XMM + 16 * i]
%assign i i + 1
%endrep
	test esi, esi
	jz .done
	; VEX.256: the low half comes from the same register (just loaded).
%assign i 0
%rep 16
	vinsertf128 ymm %+ i, ymm %+ i, [rdi + S_YMM_HI + 16 * i], 1
%assign i i + 1
%endrep
.done:
	ret

; void simd_fxsave_ymm(void *fx /* rdi, 512 bytes, 16-aligned */,
;                      u64 (*ymm_hi)[2] /* rsi */, bool avx /* edx */)
; FXSAVE64 takes x87/MMX/XMM/MXCSR in one go; the YMM upper halves
; are not in its image.
global simd_fxsave_ymm
simd_fxsave_ymm:
	fxsave64 [rdi]
	test edx, edx
	jz .done
%assign i 0
%rep 16
	vextractf128 [rsi + 16 * i], ymm %+ i, 1
%assign i i + 1
%endrep
.done:
	ret
