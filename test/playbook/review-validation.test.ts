/**
 * The workflow validates review updates without zod (its bundle stays small); the HTTP and CLI side
 * use ReviewUpdateSchema. Both must accept and refuse exactly the same updates.
 */
import fc from 'fast-check';
import { reviewUpdateProblem } from '../../common/messages';
import { ReviewUpdateSchema } from '../../common/playbook';

const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.constant(' '.repeat(3)),
  fc.string({ minLength: 4090, maxLength: 4100 }),
);
const update = fc.oneof(
  fc.record(
    {
      decision: fc.oneof(fc.constantFrom('approve', 'reject', 'Approve', ''), fc.integer()),
      analyst: fc.oneof(text, fc.constant(undefined), fc.integer()),
      comment: fc.oneof(text, fc.constant(undefined), fc.boolean()),
      identity: fc.oneof(
        fc.constant(undefined),
        fc.constant(null),
        fc.record(
          {
            issuer: fc.oneof(fc.constant('https://login.example.test'), text, fc.integer()),
            subject: fc.oneof(fc.constant('alice'), text, fc.constant('')),
            name: fc.oneof(text, fc.constant(undefined), fc.constant('')),
            email: fc.oneof(fc.constant('alice@example.test'), text, fc.constant(undefined)),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

it('the workflow’s review validator agrees with ReviewUpdateSchema on every input', () => {
  fc.assert(
    fc.property(update, (candidate) => {
      expect(reviewUpdateProblem(candidate) === null).toBe(ReviewUpdateSchema.safeParse(candidate).success);
    }),
    { numRuns: 3_000 },
  );
});

it('names the field at fault', () => {
  expect(reviewUpdateProblem({ decision: 'approve', analyst: '  ' })).toMatch(/^analyst: analyst is required/);
  expect(reviewUpdateProblem({ decision: 'maybe', analyst: 'alice' })).toMatch(/^decision:/);
  expect(reviewUpdateProblem({ decision: 'reject', analyst: 'alice', comment: 'x'.repeat(5000) })).toMatch(/^comment:/);
  expect(reviewUpdateProblem({ decision: 'reject', analyst: 'alice', comment: 'ok' })).toBeNull();
  expect(reviewUpdateProblem({ decision: 'approve', analyst: 'alice', identity: { issuer: 'x' } })).toMatch(
    /^identity:/,
  );
  expect(
    reviewUpdateProblem({
      decision: 'approve',
      analyst: 'Alice',
      identity: { issuer: 'https://idp', subject: 'alice' },
    }),
  ).toBeNull();
});
