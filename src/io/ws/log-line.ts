/**
 * The one place where text from peers becomes log text. A client's name, message type, error
 * message or a decoder's complaint about its bytes can hold anything: newlines and ANSI escapes
 * that forge log lines or repaint the terminal, or megabytes. Every ws log line passes through
 * here, so no caller has to remember to escape.
 */

/** Longest log line kept; the rest is cut and counted. */
export const MAX_LOG_LINE_CHARS = 300;

/**
 * Control characters (C0 incl. newline and ESC, DEL, C1), the Unicode line and paragraph
 * separators and bidirectional overrides/isolates, which can reorder what a terminal shows.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One printable line: unsafe characters escaped (`\n`, `\x1b`, `\u2028`), cut to `maxChars`. */
export function safeLogLine(text: string, maxChars = MAX_LOG_LINE_CHARS): string {
  // Cut before escaping too, so a 60 MB message costs no more than a short one.
  const head = text.length > maxChars * 4 ? text.slice(0, maxChars * 4) : text;
  const escaped = head.replace(UNSAFE, escapeChar);
  if (escaped.length <= maxChars && head.length === text.length) return escaped;
  return `${escaped.slice(0, maxChars)}… (${text.length} chars, cut)`;
}

/**
 * Per-connection log budget: a client that provokes errors in a loop gets `burst` lines, then one
 * line per `intervalMs`, and a count of the lines it cost in between.
 */
export class LogBudget {
  private tokens: number;
  private lastMs: number;
  suppressed = 0;

  constructor(
    private readonly burst = 20,
    private readonly intervalMs = 1000,
    nowMs = Date.now(),
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** True when a line may be written now; false counts it as suppressed. */
  take(nowMs = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (nowMs - this.lastMs) / this.intervalMs);
    this.lastMs = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.suppressed++;
    return false;
  }
}
