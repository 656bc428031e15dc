/** Hostile text shown to people: what displayText escapes, and what it leaves alone. */
import fc from 'fast-check';
import { displayLines, displayText } from '../../common/display-text';

describe('displayText', () => {
  it('shows line breaks, bidi overrides, zero-width and other control characters as visible escapes', () => {
    expect(displayText('rule\nReview page: http://evil.example/r')).toBe('rule\\nReview page: http://evil.example/r');
    expect(displayText('invoice\u202Efdp.exe')).toBe('invoice\\u{202E}fdp.exe');
    expect(displayText('svc\u200Bhost.exe\u2066x\u2069')).toBe('svc\\u{200B}host.exe\\u{2066}x\\u{2069}');
    expect(displayText('a\r\tb\u0000c\u007Fd\u0085e\u2028f\u2029g\uFEFF')).toBe(
      'a\\r\\tb\\u{0000}c\\u{007F}d\\u{0085}e\\u{2028}f\\u{2029}g\\u{FEFF}',
    );
  });

  it('leaves ordinary text, paths and non-Latin scripts as they are', () => {
    for (const text of ['C:\\Windows\\System32\\cmd.exe', 'WINWORD.EXE → invoice.exe', 'Größe 東京 مرحبا', '<b>&"\'']) {
      expect(displayText(text)).toBe(text);
    }
  });

  it('never leaves a control, format or separator character in its output, for any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(displayText(text)).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
      }),
    );
  });

  it('displayLines keeps the line structure of composed text and escapes inside each line', () => {
    expect(displayLines('spawnguard review approve x\nspawnguard review reject \u202Ey')).toBe(
      'spawnguard review approve x\nspawnguard review reject \\u{202E}y',
    );
  });
});
