// GET /jobs/:id/progress on the agent's HTTP server: public (anyone who knows the job id can see its
// stage, as on chain), rate-limited per client IP, 404 for jobs this node never saw.
import type { Mount } from "../deliver/server.js";
import { RateLimiter } from "../deliver/limits.js";
import type { JobProgress } from "./board.js";

const JOB_ID = /^(0|[1-9]\d{0,77})$/;

export function progressMount(status: (jobId: string) => JobProgress | null, perMinute = 120): Mount {
  const rate = new RateLimiter(perMinute, 60_000);
  return {
    pattern: /^\/jobs\/([^/]*)\/progress$/,
    methods: ["GET"],
    async handle(req) {
      if (!rate.hit(req.ip)) return { status: 429, body: { error: "too many progress requests; retry in a minute" }, headers: { "retry-after": "60" } };
      const id = req.match[1]!;
      if (!JOB_ID.test(id)) return { status: 400, body: { error: "job id must be a decimal uint256" } };
      const s = status(id);
      return s ? { status: 200, body: s } : { status: 404, body: { error: "job not known to this node" } };
    },
  };
}
