// A command-line error: printed as "Error: <message>" with a non-zero exit code.
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message.replace(/^Error: /, ""));
  }
}
