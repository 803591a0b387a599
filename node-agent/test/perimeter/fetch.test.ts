// The bundle fetcher against a hostile chain: every modelURI a researcher could put in a job, and
// every answer a hostile server could give, tried against real local servers.
import { expect } from "chai";
import { createServer, type Server, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchBundle, BundleRefused, BundleFetchError, isPublicAddress, type FetchOptions, type Resolver } from "../../src/fetch/index.js";

const BASE: FetchOptions = { ipfsGateway: "https://ipfs.io/ipfs/", allowInsecureOrigins: [], allowFileRoots: [], maxBytes: 64 * 1024, timeoutMs: 5_000 };

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number; origin: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return { server, port, origin: `http://127.0.0.1:${port}`, hits };
}
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
async function local(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const s = await serve(handler);
  servers.push(s.server);
  return s;
}

async function refusal(p: Promise<unknown>, cls: typeof BundleRefused | typeof BundleFetchError = BundleRefused): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e, (e as Error).message).to.be.instanceOf(cls);
    return (e as Error).message;
  }
  throw new Error("expected the fetch to be refused");
}

describe("bundle fetch perimeter (node-agent/src/fetch)", () => {
  describe("addresses", () => {
    it("refuses private, loopback, link-local, CGNAT, multicast, unspecified, IPv4-mapped and NAT64/6to4 forms", () => {
      const blocked = [
        "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "100.127.255.255",
        "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "192.0.2.1", "198.18.0.1",
        "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1",
        "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
        "64:ff9b::127.0.0.1", "64:ff9b::a00:1", "64:ff9b::169.254.169.254", "64:ff9b:1::1", "2002:7f00:1::1", "2002:a9fe:a9fe::", "2001:0:4136:e378::1",
        "not-an-ip", "",
      ];
      for (const a of blocked) expect(isPublicAddress(a), a).to.equal(false);
      for (const a of ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"]) expect(isPublicAddress(a), a).to.equal(true);
    });
  });

  describe("schemes chosen by the job", () => {
    it("refuses file:///etc/passwd, /dev/zero, data:, plain http, gopher and relative URIs without an operator allowlist", async () => {
      for (const uri of ["file:///etc/passwd", "file:///dev/zero", "data:application/json,{}", "http://example.com/b.json", "gopher://example.com/", "/etc/passwd", "bundle.json", "javascript:alert(1)"]) {
        const msg = await refusal(fetchBundle(uri, BASE));
        expect(msg, uri).to.not.include("root:"); // never the content
      }
      expect(await refusal(fetchBundle("file:///etc/passwd", BASE))).to.match(/fetch\.allowFileRoots/);
      expect(await refusal(fetchBundle("http://example.com/b.json", BASE))).to.match(/fetch\.allowInsecureOrigins/);
    });

    it("file:// only under an operator-listed directory, only regular files, only within the size cap", async () => {
      const root = mkdtempSync(join(tmpdir(), "rapha-fetch-root-"));
      writeFileSync(join(root, "b.json"), "{}");
      const o = { ...BASE, allowFileRoots: [root] };
      expect(Buffer.from(await fetchBundle(`file://${root}/b.json`, o)).toString()).to.equal("{}");
      expect(await refusal(fetchBundle("file:///etc/passwd", o))).to.match(/outside/);
      expect(await refusal(fetchBundle(`file://${root}/../../etc/passwd`, o))).to.match(/outside/);
      // /dev/zero is a character device: refused before a single byte is read (it would fill memory)
      expect(await refusal(fetchBundle("file:///dev/zero", { ...BASE, allowFileRoots: ["/dev"] }))).to.match(/not a regular file/);
      writeFileSync(join(root, "big.json"), Buffer.alloc(BASE.maxBytes + 1));
      expect(await refusal(fetchBundle(`file://${root}/big.json`, o))).to.match(/size cap/);
      expect(await refusal(fetchBundle(`file://remote-host${root}/b.json`, o))).to.match(/remote host/);
      // the agent home and the datasets stay out of reach even when an allowed root contains them
      mkdirSync(join(root, "home", "keys"), { recursive: true });
      writeFileSync(join(root, "home", "keys", "operator.key"), "0x" + "ab".repeat(32));
      expect(await refusal(fetchBundle(`file://${root}/home/keys/operator.key`, { ...o, deniedFileRoots: [join(root, "home")] }))).to.match(/agent home/);
    });

    it("refuses credentials in the URL and malformed ipfs:// paths", async () => {
      expect(await refusal(fetchBundle("https://user:pass@example.com/b.json", BASE))).to.match(/credentials/);
      for (const u of ["ipfs://../../admin", "ipfs://bafy/../../x", "ipfs://?x=1", "ipfs://a"]) await refusal(fetchBundle(u, BASE));
    });
  });

  describe("hosts and addresses", () => {
    it("refuses plain http to 127.0.0.1 (a hospital-internal service) unless the operator lists the origin", async () => {
      const s = await local((_q, r) => r.end("{}"));
      await refusal(fetchBundle(`${s.origin}/admin/delete`, BASE));
      expect(s.hits).to.deep.equal([]); // never contacted
      expect(Buffer.from(await fetchBundle(`${s.origin}/b.json`, { ...BASE, allowInsecureOrigins: [s.origin] })).toString()).to.equal("{}");
      expect(Buffer.from(await fetchBundle(`${s.origin}/b.json`, { ...BASE, allowInsecureOrigins: ["http://127.0.0.1"] })).toString()).to.equal("{}"); // any port
      await refusal(fetchBundle(`${s.origin}/b.json`, { ...BASE, allowInsecureOrigins: ["http://127.0.0.1:1"] })); // another port
    });

    it("refuses https to a loopback or mapped literal, and a DNS name that resolves to a private address", async () => {
      let lookups = 0;
      const resolve: Resolver = async (h) => {
        lookups++;
        return h === "bundles.evil.test" ? [{ address: "10.0.0.7", family: 4 }] : h === "mixed.evil.test" ? [{ address: "93.184.216.34", family: 4 }, { address: "127.0.0.1", family: 4 }] : [{ address: "::ffff:169.254.169.254", family: 6 }];
      };
      for (const u of ["https://127.0.0.1/b.json", "https://[::1]/b.json", "https://[::ffff:127.0.0.1]/b.json", "https://[64:ff9b::a9fe:a9fe]/b.json", "https://0.0.0.0/b.json"]) expect(await refusal(fetchBundle(u, { ...BASE, resolve })), u).to.match(/non-public/);
      expect(lookups).to.equal(0); // literals are never sent to DNS
      expect(await refusal(fetchBundle("https://bundles.evil.test/b.json", { ...BASE, resolve }))).to.match(/non-public/);
      expect(await refusal(fetchBundle("https://mixed.evil.test/b.json", { ...BASE, resolve }))).to.match(/non-public/); // one private answer is enough
      expect(await refusal(fetchBundle("https://metadata.evil.test/b.json", { ...BASE, resolve }))).to.match(/non-public/);
    });

    it("connects to the address it vetted (one lookup per hop; no second resolution)", async () => {
      const s = await local((_q, r) => r.end("pinned"));
      let lookups = 0;
      const resolve: Resolver = async () => (lookups++, [{ address: "127.0.0.1", family: 4 }]);
      // bundles.test exists in no DNS: the bytes can only come from the vetted address
      const out = await fetchBundle(`http://bundles.test:${s.port}/b.json`, { ...BASE, allowInsecureOrigins: [`http://bundles.test:${s.port}`], resolve });
      expect(Buffer.from(out).toString()).to.equal("pinned");
      expect(lookups).to.equal(1);
    });
  });

  describe("redirects", () => {
    it("re-checks every redirect: to 127.0.0.1, to a private DNS name, to file:// — all refused", async () => {
      const internal = await local((_q, r) => r.end("SECRET-INTERNAL"));
      const resolve: Resolver = async () => [{ address: "192.168.0.10", family: 4 }];
      for (const to of [`${internal.origin}/admin`, "https://intranet.evil.test/x", "file:///etc/passwd", "data:,x"]) {
        const s = await local((_q, r) => (r.writeHead(302, { location: to }), r.end()));
        const msg = await refusal(fetchBundle(`${s.origin}/b.json`, { ...BASE, allowInsecureOrigins: [s.origin], resolve }));
        expect(msg, to).to.match(/redirect|non-public/);
      }
      expect(internal.hits).to.deep.equal([]);
    });

    it("follows at most 3 redirects (an infinite loop is refused, 4 requests in all)", async () => {
      const s = await local((req, r) => (r.writeHead(301, { location: `/hop${(req.url ?? "").length}` }), r.end()));
      expect(await refusal(fetchBundle(`${s.origin}/start`, { ...BASE, allowInsecureOrigins: [s.origin] }))).to.match(/more than 3 redirects/);
      expect(s.hits).to.have.length(4);
      const ok = await local((req, r) => (req.url === "/3" ? r.end("done") : (r.writeHead(302, { location: `/${Number(req.url!.slice(1)) + 1}` }), r.end())));
      expect(Buffer.from(await fetchBundle(`${ok.origin}/0`, { ...BASE, allowInsecureOrigins: [ok.origin] })).toString()).to.equal("done");
    });
  });

  describe("size and time caps", () => {
    it("refuses an oversize body by Content-Length and while streaming, without reading it all", async () => {
      const declared = await local((_q, r) => (r.writeHead(200, { "content-length": String(10 * 1024 * 1024) }), r.write(Buffer.alloc(1024))));
      expect(await refusal(fetchBundle(`${declared.origin}/b`, { ...BASE, allowInsecureOrigins: [declared.origin] }))).to.match(/size cap.*Content-Length/);
      let sent = 0;
      const streamed = await local((_q, r) => {
        r.writeHead(200); // chunked: no length announced
        const chunk = Buffer.alloc(16 * 1024);
        const pump = () => {
          while (sent < 64 * 1024 * 1024 && !r.destroyed) {
            sent += chunk.length;
            if (!r.write(chunk)) return void r.once("drain", pump);
          }
          r.end();
        };
        pump();
      });
      expect(await refusal(fetchBundle(`${streamed.origin}/b`, { ...BASE, allowInsecureOrigins: [streamed.origin] }))).to.match(/size cap/);
      expect(sent).to.be.lessThan(64 * 1024 * 1024); // the agent hung up; the server never finished
    });

    it("a slow-loris server (headers, then a byte now and then) is cut off by the whole-request time cap", async () => {
      const timers: NodeJS.Timeout[] = [];
      const s = await local((_q, r) => {
        r.writeHead(200, { "content-type": "application/json" });
        timers.push(setInterval(() => r.write(" "), 100));
      });
      try {
        const msg = await refusal(fetchBundle(`${s.origin}/b`, { ...BASE, timeoutMs: 800, allowInsecureOrigins: [s.origin] }), BundleFetchError);
        expect(msg).to.match(/timed out after 800 ms/);
      } finally {
        for (const t of timers) clearInterval(t);
      }
    });

    it("a server that accepts and never answers is cut off too (retried later as a transient failure)", async () => {
      const s = await local(() => {});
      expect(await refusal(fetchBundle(`${s.origin}/b`, { ...BASE, timeoutMs: 500, allowInsecureOrigins: [s.origin] }), BundleFetchError)).to.match(/timed out/);
    });

    it("sends no cookies or credentials and says who it is", async () => {
      let headers: IncomingMessage["headers"] = {};
      const s = await local((q, r) => ((headers = q.headers), r.end("{}")));
      await fetchBundle(`${s.origin}/b`, { ...BASE, allowInsecureOrigins: [s.origin] });
      expect(headers.cookie).to.equal(undefined);
      expect(headers.authorization).to.equal(undefined);
      expect(headers["user-agent"]).to.equal("rapha-node");
    });
  });

  describe("ipfs://", () => {
    it("goes through the configured gateway, which must be https unless the operator lists it", async () => {
      const gw = await local((q, r) => r.end(`gateway:${q.url}`));
      const cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
      expect(await refusal(fetchBundle(`ipfs://${cid}`, { ...BASE, ipfsGateway: `${gw.origin}/ipfs/` }))).to.match(/gateway.*not https/);
      const out = await fetchBundle(`ipfs://${cid}/model.json`, { ...BASE, ipfsGateway: `${gw.origin}/ipfs/`, allowInsecureOrigins: [gw.origin] });
      expect(Buffer.from(out).toString()).to.equal(`gateway:/ipfs/${cid}/model.json`);
    });
  });
});
