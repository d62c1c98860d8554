// bench:footprint's hook inside the measured server (node --expose-gc --import it): on SIGUSR2, a full
// garbage collection, then the process's memory figures as one stdout line. Nothing else is changed.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  console.log(`footprint-gc ${JSON.stringify(process.memoryUsage())}`);
});
