// The product version, embedded from deno.json at build time (never read from disk at run time).
import denoJson from "../../deno.json" with { type: "json" };
export const VERSION: string = denoJson.version;
