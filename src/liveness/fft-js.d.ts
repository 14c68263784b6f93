// fft.js ships no types: the part of its API that src/liveness/fft.ts uses.
declare module 'fft.js' {
  type Complex = Float64Array | number[];
  export default class FFT {
    constructor(size: number);
    readonly size: number;
    /** Interleaved (re, im) output of a real input; fills the left half of `out`. */
    realTransform(out: Complex, data: Float64Array | number[]): void;
    /** Mirrors the left half written by realTransform into the right half. */
    completeSpectrum(out: Complex): void;
    /** Forward complex transform, interleaved (re, im), out of place. */
    transform(out: Complex, data: Complex): void;
    inverseTransform(out: Complex, data: Complex): void;
    createComplexArray(): number[];
  }
}
