// The one rule for showing text that came over the wire, as the server's
// `core/display.py` states it: controls, escape sequences, bidirectional
// overrides and invisible characters are shown, never interpreted. The tree,
// the status bar and the dashboard webview show what `colearner/inbox` and
// `colearner/dashboard` return, which is the ledger's text as it came; so every
// label, description and tooltip built from it passes through here.
// tests/views/test_display_parity.py checks this file against the Python rule.

// The same classes as the Python module, in the same order.
const UNSAFE_CHARS =
    '\\u0000-\\u0008\\u000b-\\u001f\\u007f' + // C0 controls but \t and \n, and DEL
    '\\u0080-\\u009f' + // C1 controls
    '\\u00ad' + // soft hyphen
    '\\u061c' + // Arabic letter mark
    '\\u115f\\u1160\\u3164\\uffa0' + // Hangul fillers
    '\\u180e' + // Mongolian vowel separator
    '\\u200b-\\u200f' + // zero-width characters, LRM, RLM
    '\\u2028\\u2029' + // line and paragraph separators
    '\\u202a-\\u202e' + // bidi embeddings and overrides
    '\\u2060-\\u206f' + // word joiner, invisible operators, bidi isolates
    '\\ufeff' + // zero-width no-break space
    '\\ufff9-\\ufffb' + // interlinear annotations
    '\\u{e0000}-\\u{e007f}'; // tag characters

const UNSAFE = new RegExp(`[${UNSAFE_CHARS}]`, 'gu');
const UNSAFE_ONE_LINE = new RegExp(`[${UNSAFE_CHARS}\\t\\n]`, 'gu');

function picture(ch: string): string {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20) {
        return String.fromCodePoint(0x2400 + code); // ␀ … ␟ (\n → ␊, \t → ␉)
    }
    if (code === 0x7f) {
        return '\u2421'; // ␡
    }
    return `⟨U+${code.toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

/** Wire text that is not a string (a number, or a list or object from a newer or hostile peer) is
 *  shown as its JSON, never as "[object Object]"; null and undefined as nothing. */
function asText(text: unknown): string {
    if (typeof text === 'string') {
        return text;
    }
    if (typeof text === 'object' && text !== null) {
        return JSON.stringify(text);
    }
    if (typeof text === 'number' || typeof text === 'boolean' || typeof text === 'bigint') {
        return String(text);
    }
    return ''; // null, undefined: nothing; a symbol or a function cannot come as JSON
}

/** `text` with every control and invisible character shown; newlines and tabs kept. */
export function visible(text: unknown): string {
    return asText(text).replace(UNSAFE, picture);
}

/** `visible` for one line (a label, a description, a status): newlines and tabs shown too;
 *  cut to `limit` characters (code points, as Python counts them) with `…`. */
export function oneLine(text: unknown, limit?: number): string {
    let s = asText(text);
    if (limit !== undefined) {
        const chars = Array.from(s);
        if (chars.length > limit) {
            s = chars.slice(0, Math.max(0, limit - 1)).join('') + '…';
        }
    }
    return s.replace(UNSAFE_ONE_LINE, picture);
}
