import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from "prom-client";

export function makeMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "rapha_node_" });
  return {
    registry,
    jobsSeen: new Counter({ name: "rapha_jobs_seen_total", help: "JobCreated events for this node", registers: [registry] }),
    stageTransitions: new Counter({ name: "rapha_job_stage_transitions_total", help: "pipeline stage transitions", labelNames: ["stage"], registers: [registry] }),
    rejections: new Counter({ name: "rapha_jobs_rejected_total", help: "jobs rejected", labelNames: ["reason"], registers: [registry] }),
    activeJobs: new Gauge({ name: "rapha_jobs_active", help: "jobs not yet terminal", registers: [registry] }),
    chainHead: new Gauge({ name: "rapha_chain_head_block", help: "latest block seen", registers: [registry] }),
    watchErrors: new Counter({ name: "rapha_watch_errors_total", help: "watcher poll errors", registers: [registry] }),
    txSent: new Counter({ name: "rapha_tx_sent_total", help: "transactions broadcast", registers: [registry] }),
    trainRecordsPerSecond: new Gauge({ name: "rapha_train_records_per_second", help: "last training throughput", registers: [registry] }),
    eventToAccept: new Histogram({ name: "rapha_event_to_accept_seconds", help: "JobCreated seen -> accept mined", buckets: [0.5, 1, 2, 5, 10, 30, 60, 300], registers: [registry] }),
    eventToSettle: new Histogram({ name: "rapha_event_to_settle_seconds", help: "JobCreated seen -> settle mined", buckets: [1, 5, 10, 30, 60, 120, 300, 900], registers: [registry] }),
  };
}
export type Metrics = ReturnType<typeof makeMetrics>;
