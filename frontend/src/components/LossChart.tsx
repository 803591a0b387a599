/** A small hand-rolled SVG line chart for the training loss curve. */
export function LossChart({ values, width = 420, height = 180, label = "loss" }: { values: number[]; width?: number; height?: number; label?: string }) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 1) return <p className="muted">No loss curve in the receipt.</p>;
  const pad = 32;
  const min = Math.min(...v), max = Math.max(...v);
  const span = max - min || 1;
  const x = (i: number) => pad + (v.length === 1 ? 0 : (i * (width - pad - 8)) / (v.length - 1));
  const y = (val: number) => 8 + (height - pad - 8) * (1 - (val - min) / span);
  const d = v.map((val, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(val).toFixed(1)}`).join(" ");
  return (
    <svg className="chart" width={width} height={height} role="img" aria-label={`${label} curve`}>
      <line x1={pad} y1={height - pad} x2={width - 8} y2={height - pad} stroke="#9aa8b7" />
      <line x1={pad} y1={8} x2={pad} y2={height - pad} stroke="#9aa8b7" />
      <text x={2} y={14} fontSize="10" fill="#6a7785">{max.toPrecision(3)}</text>
      <text x={2} y={height - pad} fontSize="10" fill="#6a7785">{min.toPrecision(3)}</text>
      <text x={width / 2} y={height - 8} fontSize="10" fill="#6a7785" textAnchor="middle">epoch (1–{v.length})</text>
      <path d={d} fill="none" stroke="#2c6a8f" strokeWidth={2} />
      {v.map((val, i) => <circle key={i} cx={x(i)} cy={y(val)} r={2.5} fill="#2c6a8f" />)}
    </svg>
  );
}
