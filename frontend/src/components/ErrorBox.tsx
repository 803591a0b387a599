import { humanizeError } from "../lib/errors";

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {humanizeError(error)} {onRetry && <button onClick={onRetry}>Retry</button>}
    </div>
  );
}
