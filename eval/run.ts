/**
 * `npm run eval [-- --json]`: evaluates the decision engine on the labelled corpus, prints the
 * report and exits 1 when a floor in eval/floors.json is not met (CI runs the same check in
 * test/eval/eval.test.ts).
 */
import { Command } from 'commander';
import { belowFloors, evaluate, formatReport, loadCorpus, loadFloors } from './evaluate';

const program = new Command('npm run eval')
  .description(
    'decision quality on the labelled corpus: precision and recall per verdict, confusion matrix, unsafe plan steps',
  )
  .option('--json', 'print the report as JSON (every case with its verdict and reasons) instead of text')
  .addHelpText(
    'after',
    '\nCases: eval/corpus/cases/*.json (format in eval/corpus/README.md). Floors: eval/floors.json.\nExit codes: 0 all floors met, 1 a floor not met, 2 a malformed case or floors file.',
  )
  .action((options: { json?: boolean }) => {
    let report;
    let floors;
    try {
      floors = loadFloors();
      report = evaluate(loadCorpus());
    } catch (err) {
      process.stderr.write(`eval: ${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ ...report, cases: report.cases.map(({ alert: _alert, ...rest }) => rest) }, null, 2)}\n`
        : `${formatReport(report, floors)}\n`,
    );
    process.exitCode = belowFloors(report, floors).length === 0 ? 0 : 1;
  });

program.parse();
