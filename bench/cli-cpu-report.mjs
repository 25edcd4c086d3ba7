// `node --import bench/cli-cpu-report.mjs …`: on exit, writes the process's own CPU time (user and system, µs)
// to the file named by WORLDLOOP_CPU_REPORT. bench/cli-ab.ts measures each CLI call's CPU with it.
import { writeFileSync } from 'node:fs';

const file = process.env.WORLDLOOP_CPU_REPORT;
if (file) process.on('exit', () => writeFileSync(file, JSON.stringify(process.cpuUsage())));
