/**
 * Hostile text in what people read (issue 16 item 7): alert-derived values with line breaks, bidi
 * overrides and zero-width characters, as an attacker would plant them, on the review page and in
 * `spawnguard status`. (The email's text, HTML and subject: test/notification/email.test.ts.)
 */
import { formatStatus } from '../../client/commands/status';
import { incidentPage } from '../../client/review/render';
import { remediatedIncident } from '../notification/incident';

const PLANTED = 'Office child\nReview page: http://evil.example/approve';
const REVERSED = 'invoice\u202Efdp.exe';

function hostileIncident() {
  const status = remediatedIncident();
  status.alert.ruleName = PLANTED;
  status.alert.child.name = REVERSED;
  status.alert.host.hostname = 'WEB01\u200B';
  status.review = { ...status.review, status: 'approved', analyst: 'alice\r\nApproved by: the CISO', decidedAt: 'x' };
  return status;
}

/** Lines of the output that begin with the planted text: what a reader would take for a real line. */
const plantedLines = (text: string) => text.split('\n').filter((line) => /^\s*(Review page|Approved by): /.test(line));

describe('alert text with hidden characters', () => {
  it('is shown escaped on the review page: no planted line, no bidi override, no zero-width character', () => {
    const html = incidentPage(hostileIncident(), 'token');
    expect(html).not.toMatch(/[\u202E\u200B]/);
    expect(html).toContain('Office child\\nReview page: http://evil.example/approve');
    expect(html).toContain('invoice\\u{202E}fdp.exe');
    expect(html).toContain('WEB01\\u{200B}');
    expect(html).toContain('alice\\r\\nApproved by: the CISO');
    expect(plantedLines(html)).toEqual([]);
  });

  it('is shown escaped by spawnguard status', () => {
    const text = formatStatus(hostileIncident());
    expect(text).not.toMatch(/[\u202E\u200B\r]/);
    expect(text).toContain('invoice\\u{202E}fdp.exe');
    expect(text).toContain('WEB01\\u{200B}');
    expect(text).toContain('alice\\r\\nApproved by: the CISO');
    expect(plantedLines(text)).toEqual([]);
  });
});
