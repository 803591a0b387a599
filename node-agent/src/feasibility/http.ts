// POST /feasibility on the agent's HTTP server (deliver/server.ts): the client is the caller's IP and,
// when it signed in with Ethereum, its address (Cedar principal, second rate-limit key).
import type { Mount } from "../deliver/server.js";
import { FeasibilityRefusal, type FeasibilityService } from "./service.js";

export function feasibilityMount(svc: FeasibilityService): Mount {
  return {
    pattern: /^\/feasibility$/,
    methods: ["POST"],
    async handle(req) {
      try {
        return { status: 200, body: await svc.answer(await req.body(), req.ip, req.who) };
      } catch (e) {
        if (e instanceof FeasibilityRefusal) return { status: e.status, body: { error: e.message }, headers: e.headers };
        throw e;
      }
    },
  };
}
