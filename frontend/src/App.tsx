import { lazy, Suspense } from "react";
import { useRoute } from "./lib/route";
import { WalletBar } from "./components/WalletBar";
import { ErrorBoundary } from "./components/ErrorBoundary";

// Every page is its own chunk: snarkjs (audit), the bundle builder and crypto load only where used.
const Catalogue = lazy(() => import("./pages/Catalogue"));
const NewJob = lazy(() => import("./pages/NewJob"));
const MyJobs = lazy(() => import("./pages/MyJobs"));
const MultiSite = lazy(() => import("./pages/MultiSite"));
const Hospital = lazy(() => import("./pages/Hospital"));
const Audit = lazy(() => import("./pages/Audit"));

const NAV: [string, string][] = [
  ["catalogue", "Datasets"],
  ["new", "New job"],
  ["jobs", "My jobs"],
  ["multisite", "Multi-site"],
  ["hospital", "Hospital"],
  ["audit", "Audit"],
];

export function App() {
  const route = useRoute();
  const page = (() => {
    switch (route.page) {
      case "new": return <NewJob params={route.params} />;
      case "jobs": return <MyJobs params={route.params} />;
      case "multisite": return <MultiSite params={route.params} />;
      case "hospital": return <Hospital />;
      case "audit": return <Audit params={route.params} />;
      default: return <Catalogue />;
    }
  })();
  return (
    <div className="app">
      <header className="top">
        <a className="brand" href="#/catalogue">Rapha</a>
        <nav>
          {NAV.map(([p, label]) => (
            <a key={p} href={`#/${p}`} className={route.page === p || (p === "catalogue" && !NAV.some(([x]) => x === route.page)) ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <WalletBar />
      </header>
      <main>
        <ErrorBoundary key={route.page}>
          <Suspense fallback={<p className="muted">Loading…</p>}>{page}</Suspense>
        </ErrorBoundary>
      </main>
      <footer className="muted">Compute moves, patient data stays: no patient record ever leaves the hospital, and this app never asks for one.</footer>
    </div>
  );
}
