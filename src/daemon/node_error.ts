// An error the node service reports to its caller: a precise message and the HTTP status that carries it.
// Messages say what was wrong and what to do; they never start with "Error:" (the CLI adds it).
export class NodeError extends Error {
  constructor(message: string, readonly status = 400, readonly code = "bad_request") {
    super(message.replace(/^Error: /, ""));
  }
}

export const notFound = (what: string) => new NodeError(what, 404, "not_found");
export const conflict = (what: string) => new NodeError(what, 409, "conflict");
export const forbidden = (what: string) => new NodeError(what, 403, "forbidden");
