import { Component, type ReactNode } from "react";
import { humanizeError } from "../lib/errors";

export class ErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  state = { error: null as unknown };
  static getDerivedStateFromError(error: unknown) { return { error }; }
  render() {
    if (this.state.error)
      return (
        <div className="error" role="alert">
          <strong>This page failed:</strong> {humanizeError(this.state.error)}{" "}
          <button onClick={() => this.setState({ error: null })}>Retry</button>
        </div>
      );
    return this.props.children;
  }
}
