/**
 * Code points whose NFKC form differs from themselves (generated with Node 20.20.2,
 * ICU 78.2, Unicode 17.0: for every code point c, c.normalize("NFKC") !== c;
 * neighbouring ranges merged), plus every combining mark and the conjoining Hangul jamo (they change
 * by composing with the previous character). Text without any of them is already NFKC, so the
 * normalisation (about ten times the cost of this one scan) can be skipped.
 */
const NFKC_CANDIDATE_RANGES = [
  "\\u00A0-\\u00A8\\u00AA-\\u00AF\\u00B2-\\u00B5\\u00B8-\\u00BE\\u0132-\\u0149\\u017F",
  "\\u01C4-\\u01CC\\u01F1-\\u01F3\\u02B0-\\u02B8\\u02D8-\\u02E4\\u0374-\\u0387\\u03D0-\\u03D6",
  "\\u03F0-\\u03F9\\u0587\\u0675-\\u0678\\u0958-\\u095F\\u09DC-\\u09DF\\u0A33-\\u0A36",
  "\\u0A59-\\u0A5E\\u0B5C-\\u0B5D\\u0E33\\u0EB3\\u0EDC-\\u0EDD\\u0F0C\\u0F43-\\u0F69\\u10FC",
  "\\u1D2C-\\u1D78\\u1D9B-\\u1DBF\\u1E9A-\\u1E9B\\u1F71-\\u1F7D\\u1FBB-\\u2011\\u2017",
  "\\u2024-\\u205F\\u2070-\\u20A8\\u2100-\\u2189\\u222C-\\u2230\\u2329-\\u232A\\u2460-\\u24EA",
  "\\u2A0C\\u2A74-\\u2A76\\u2ADC\\u2C7C-\\u2C7D\\u2D6F\\u2E9F\\u2EF3-\\u2FD5\\u3000\\u3036-\\u303A",
  "\\u309B-\\u309F\\u30FF\\u3131-\\u319F\\u3200-\\u33FF\\uA69C-\\uA69D\\uA770\\uA7F1-\\uA7F9",
  "\\uAB5C-\\uAB69\\uF900-\\uFAD9\\uFB00-\\uFBB1\\uFBD3-\\uFD3D\\uFD50-\\uFDC7\\uFDF0-\\uFDFC",
  "\\uFE10-\\uFE19\\uFE30-\\uFFEE\\u{10781}-\\u{107BA}\\u{1CCD6}-\\u{1CCF9}\\u{1D15E}-\\u{1D164}",
  "\\u{1D1BB}-\\u{1D1C0}\\u{1D400}-\\u{1D7FF}\\u{1E030}-\\u{1E06D}\\u{1EE00}-\\u{1EEBB}",
  "\\u{1F100}-\\u{1F14F}\\u{1F16A}-\\u{1F16C}\\u{1F190}\\u{1F200}-\\u{1F251}\\u{1FBF0}-\\u{1FBF9}",
  "\\u{2F800}-\\u{2FA1D}",
].join("");

export const MAY_CHANGE_UNDER_NFKC = new RegExp(`[${NFKC_CANDIDATE_RANGES}\\u1100-\\u11FF\\p{M}]`, "u");

/** NFKC, skipped when the text contains no character that NFKC could change. */
export function toNfkc(text: string): string {
  return MAY_CHANGE_UNDER_NFKC.test(text) ? text.normalize("NFKC") : text;
}
