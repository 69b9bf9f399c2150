//! The byte loops of the fast path: a run of digits (eight at a time) and a string's
//! body up to its closing quote, an escape or a control character (sixteen, then
//! sixty-four bytes at a time on x86_64).

/// The digits of `b` from `at`, appended to `significand` (wrapping past 19 digits: the
/// caller counts them), and the offset after them. Eight at a time where it can
/// (fast_float's SWAR check and conversion).
pub(super) fn digit_run(b: &[u8], mut at: usize, mut significand: u64) -> (u64, usize) {
    while let Some(chunk) = b.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        if (v.wrapping_add(0x4646_4646_4646_4646) | v.wrapping_sub(0x3030_3030_3030_3030))
            & 0x8080_8080_8080_8080
            != 0
        {
            break;
        }
        let mut v = v.wrapping_sub(0x3030_3030_3030_3030);
        v = v.wrapping_mul(10).wrapping_add(v >> 8);
        const MASK: u64 = 0x0000_00ff_0000_00ff;
        v = ((v & MASK).wrapping_mul(0x000f_4240_0000_0064))
            .wrapping_add(((v >> 16) & MASK).wrapping_mul(0x0000_2710_0000_0001))
            >> 32;
        significand = significand.wrapping_mul(100_000_000).wrapping_add(v & 0xffff_ffff);
        at += 8;
    }
    while let Some(&c @ b'0'..=b'9') = b.get(at) {
        significand = significand.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        at += 1;
    }
    (significand, at)
}

/// The offset of the first `"`, `\` or control character in `b` (`b.len()` if none),
/// and whether every byte before it is ASCII.
pub(super) fn string_end(b: &[u8]) -> (usize, bool) {
    let mut i = 0;
    let mut high = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8, _mm_setzero_si128,
        };
        // SAFETY: SSE2 is part of x86_64; every load reads 16 bytes inside `b`.
        unsafe {
            let (quote, backslash, control) =
                (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8), _mm_set1_epi8(0x1f));
            // The 16 bytes at `p`, and those that end a string among them (`"`, `\`, and
            // <= 0x1f: those whose unsigned max with 0x1f is 0x1f).
            let stops = |p: *const u8| {
                let chunk = _mm_loadu_si128(p.cast::<__m128i>());
                let hits = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                    _mm_cmpeq_epi8(_mm_max_epu8(chunk, control), control),
                );
                (chunk, hits)
            };
            // 16 bytes, and where a string ends among them (the high bits: bytes past
            // ASCII).
            let sixteen = |i: usize, high: &mut i32| {
                let (chunk, hits) = stops(b.as_ptr().add(i));
                let (mask, chunk_high) = (_mm_movemask_epi8(hits), _mm_movemask_epi8(chunk));
                if mask == 0 {
                    *high |= chunk_high;
                    return None;
                }
                let at = mask.trailing_zeros();
                *high |= chunk_high & ((1 << at) - 1);
                Some(i + at as usize)
            };
            // The first 16, where most strings end.
            if i + 16 <= b.len() {
                if let Some(end) = sixteen(i, &mut high) {
                    return (end, high == 0);
                }
                i += 16;
            }
            // Then 64 a round while nothing ends the string (a long base64 string), the
            // high bits gathered and looked at once.
            let mut past_ascii = _mm_setzero_si128();
            while i + 64 <= b.len() {
                let p = b.as_ptr().add(i);
                let (c0, h0) = stops(p);
                let (c1, h1) = stops(p.add(16));
                let (c2, h2) = stops(p.add(32));
                let (c3, h3) = stops(p.add(48));
                if _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(h0, h1), _mm_or_si128(h2, h3))) != 0 {
                    break;
                }
                past_ascii =
                    _mm_or_si128(past_ascii, _mm_or_si128(_mm_or_si128(c0, c1), _mm_or_si128(c2, c3)));
                i += 64;
            }
            high |= _mm_movemask_epi8(past_ascii);
            while i + 16 <= b.len() {
                if let Some(end) = sixteen(i, &mut high) {
                    return (end, high == 0);
                }
                i += 16;
            }
        }
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        high |= i32::from(c >= 0x80);
        i += 1;
    }
    (i, high == 0)
}
