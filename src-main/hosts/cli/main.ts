/**
 * The `layerlens` command. Each command lives in commands/; this file only dispatches and turns errors into
 * one line on stderr and an exit status (1: the model or input cannot be used, 2: bad usage).
 */
import { EngineError, describeError, oneLine } from '../../engine/errors';
import { ENGINE_VERSION } from '../../engine/version';
import { camCommand } from './commands/cam';
import { evaluateCommand } from './commands/evaluate';
import { graphCommand } from './commands/graph';
import { interpretCommand } from './commands/interpret';
import { predictCommand } from './commands/predict';
import { reportCommand } from './commands/report';
import { runsCommand } from './commands/runs';
import { serveCommand } from './commands/serve';
import { statsCommand } from './commands/stats';
import { UsageError } from './errors';
import { COMMAND_HELP, MAIN_HELP } from './usage';

type Command = (argv: string[], out: (text: string) => void) => Promise<void>;
const COMMANDS: Record<string, Command> = {
  cam: camCommand,
  evaluate: evaluateCommand,
  graph: graphCommand,
  interpret: interpretCommand,
  predict: predictCommand,
  report: reportCommand,
  runs: runsCommand,
  serve: serveCommand,
  stats: statsCommand,
};

export async function runCli(
  argv: string[],
  out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
): Promise<number> {
  endQuietlyOnClosedPipe();
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    out(MAIN_HELP);
    return 0;
  }
  if (command === '-v' || command === '--version') {
    out(ENGINE_VERSION);
    return 0;
  }
  if (command === 'help') {
    const topic = rest[0];
    out(topic && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : MAIN_HELP);
    return 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(`layerlens: unknown command "${command}". Run "layerlens --help".\n`);
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    out(COMMAND_HELP[command] ?? MAIN_HELP);
    return 0;
  }
  try {
    await run(rest, out);
    return 0;
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`layerlens ${command}: ${error.message}\nRun "layerlens help ${command}".\n`);
      return 2;
    }
    if (error instanceof EngineError) {
      process.stderr.write(`layerlens: ${error.message}\n`);
      return 1;
    }
    // A bug, still one line; LAYERLENS_DEBUG=1 shows where it happened.
    const detail = error instanceof Error && process.env.LAYERLENS_DEBUG ? `\n${error.stack ?? ''}` : '';
    process.stderr.write(`layerlens: internal error: ${oneLine(describeError(error))}${detail}\n`);
    return 1;
  }
}

/**
 * `layerlens runs list --json | head -c 100`: once the reader has gone, the rest of the output has nowhere to
 * go. End as Unix tools do, silently, instead of dying on an unhandled EPIPE with a stack trace.
 */
const closedPipeHandled = new WeakSet<NodeJS.WriteStream>();
function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (closedPipeHandled.has(stream)) continue;
    closedPipeHandled.add(stream);
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}

// bin/layerlens.js and bin/start.js import this bundle and call these themselves.
export default runCli;
export { findElectronBinary } from '../electron-binary';
