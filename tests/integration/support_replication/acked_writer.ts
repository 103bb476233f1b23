// A child process for the durability test: appends numbered records to the file named by its argument,
// fsyncs after each one, and prints the record's number only after that fsync returned. A printed number is
// therefore a record the application was told is durable (async="none": on both disks).
import { recordLine } from "./record_line.ts";

const file = await Deno.open(Deno.args[0], { create: true, append: true, write: true });
const out = new TextEncoder();
for (let i = 1;; i++) {
  const record = out.encode(`${recordLine(i)}\n`);
  for (let done = 0; done < record.length;) done += await file.write(record.subarray(done));
  await file.sync();
  await Deno.stdout.write(out.encode(`${i}\n`));
}
