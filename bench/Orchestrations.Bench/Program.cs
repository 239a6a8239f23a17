// Benchmark harness: each workload is a subcommand; results are printed as one table per run.
// Run by hand (see README "Benchmarks"); CI never runs it.
Console.Error.WriteLine("usage: dotnet run -c Release --project bench/Orchestrations.Bench -- <workload>");
Console.Error.WriteLine("No workloads are registered yet.");
return 2;
