// @lhncbc/ucum-lhc ships no types; units.ts narrows the one call it makes.
declare module "@lhncbc/ucum-lhc" {
  const ucum: unknown;
  export default ucum;
}
