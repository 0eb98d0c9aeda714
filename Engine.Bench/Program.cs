using System.Diagnostics;
using System.Runtime;
using Engine.Bench;

var parsed = BenchArgs.Parse(args);
if (parsed is null)
{
    Console.Error.WriteLine(BenchArgs.Usage);
    return 2;
}

var report = new Report();
Console.WriteLine($"Engine.Bench: {parsed.Workload} | .NET {Environment.Version} | {Environment.ProcessorCount} cores | "
    + $"GC server={GCSettings.IsServerGC} concurrent={GCSettings.LatencyMode != GCLatencyMode.Batch} | {DateTime.UtcNow:u}");
Console.WriteLine($"command: dotnet run -c Release --project Engine.Bench -- {string.Join(' ', args)}");
#if DEBUG
Console.WriteLine("WARNING: Debug build; figures are meaningless. Use -c Release.");
#endif

var total = Stopwatch.StartNew();
var workloads = parsed.Workload == "all" ? BenchArgs.Workloads : [parsed.Workload];
var failed = false;
foreach (var workload in workloads)
{
    var watch = Stopwatch.StartNew();
    Console.WriteLine();
    Console.WriteLine($"=== {workload} ===");
    try
    {
        switch (workload)
        {
            case "trigger":
                await TriggerWorkload.RunAsync(parsed, report);
                break;
            case "journal":
                await JournalWorkload.RunAsync(parsed, report);
                break;
            case "http":
                await HttpWorkload.RunAsync(parsed, report);
                break;
            case "recovery":
                await RecoveryWorkload.RunAsync(parsed, report);
                break;
            case "memory":
                MemoryWorkload.Run(parsed, report);
                break;
            case "risk":
                await RiskWorkload.RunAsync(parsed, report);
                break;
            case "copy":
                await CopyWorkload.RunAsync(parsed, report);
                break;
            default:
                await Probes.RunAsync(parsed, workload);
                break;
        }
    }
    catch (Exception ex)
    {
        failed = true;
        Console.WriteLine($"!!! {workload} failed: {ex}");
        report.Failure(workload, ex.GetType().Name + ": " + ex.Message);
    }

    Console.WriteLine($"({workload} took {watch.Elapsed.TotalSeconds:F0} s)");
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
}

await BenchPostgres.StopAsync();
Console.WriteLine();
report.PrintSummary(total.Elapsed);
return failed ? 1 : 0;
