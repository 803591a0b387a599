// PGlite (embedded Postgres) served over the PostgreSQL wire protocol on a free local port, so the
// agent reaches the test's OMOP database through its real `pg` client and a postgres:// URL. PGlite
// speaks the protocol itself (execProtocolRaw, startup included); this only moves bytes, one client
// at a time (PGlite is single-connection; a second client waits for the first to close).
import { createServer, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";

export interface PgliteServer {
  url: string;
  close(): Promise<void>;
}

export async function servePglite(db: PGlite, database = "cdm"): Promise<PgliteServer> {
  let queue: Promise<void> = Promise.resolve();
  const sockets = new Set<Socket>();
  const serve = (socket: Socket) =>
    new Promise<void>((done) => {
      sockets.add(socket);
      let chain: Promise<void> = Promise.resolve();
      const finish = () => {
        sockets.delete(socket);
        done();
      };
      socket.on("data", (data: Buffer) => {
        socket.pause();
        chain = chain.then(async () => {
          const out = await db.execProtocolRaw(new Uint8Array(data));
          if (out.length && socket.writable) socket.write(Buffer.from(out));
          socket.resume();
        }, finish);
      });
      socket.on("close", finish);
      socket.on("error", finish);
    });
  const server: Server = createServer((socket) => {
    // one connection holds the database until it closes (as a session would)
    queue = queue.then(() => db.runExclusive(() => serve(socket)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `postgres://omop:omop@127.0.0.1:${port}/${database}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
