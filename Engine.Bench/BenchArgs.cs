using System.Globalization;

namespace Engine.Bench;

/// <summary>Command-line options. Defaults are the sizes; smaller ones make a quick run.</summary>
internal sealed class BenchArgs
{
    public static readonly string[] Workloads = ["trigger", "journal", "http", "recovery", "memory"];

    public const string Usage = """
        usage: dotnet run -c Release --project Engine.Bench -- <workload> [options]

        workloads: trigger | journal | http | recovery | memory | all
                   risk (not in all): the trigger workload with circuit breakers and trigger
                   confirmations on, against the same with them off, side by side; prints on / off
                   copy (not in all): one leader fill fanned out to many followers over all shards,
                   durably journaled; time from the leader's fill to the last follower's outcome

        options (defaults are the full sizes):
          --orders N            resting conditional orders (trigger, recovery, memory)   [1000000]
          --accounts N          accounts the orders are spread over                      [1000]
          --reps N              repetitions; every figure is the median over them        [5]
          --seed N              seed of the order mix and of the random walk             [42]
          --quick               small sizes for a smoke run (orders 100000, ticks 200000, reps 3, short durations)

        trigger, risk:
          --ticks N             ticks per measured repetition through ShardGrains        [2000000]
          --naive-ticks N       ticks per repetition of the naive full scan              [300]
          --runtime-ticks N     ticks per repetition through EngineSilo + PriceService   [1000000]
          --quote all|index     all: last = index = mark move together; index: index only [all]
          --no-runtime          skip the full-runtime line (EngineSilo + file journal)

        risk:
          --confirmed a,b       one 'on' shard per fraction of the stops and take-profits given
                                PT2S wick protection (0: breakers only)                  [0.1,1]
          --tick-spacing-us U   engine time per tick in µs (the timer runs every 100 ms)  [1000]

        journal:
          --concurrency N       commands in flight (SendAsync callers)                   [256]
          --sweep a,b,c         also measure these in-flight counts (1 repetition each)  [64,1024,4096]
          --seconds S           measured seconds per repetition                          [5]
          --warmup S            warm-up seconds per repetition                           [1]

        http:
          --http-concurrency N  concurrent requests (connections)                        [128]
          --http-seconds S      measured seconds per repetition                          [10]
          --warmup S            warm-up seconds before the first repetition              [5]
          --http-shards N       Engine:Shards of the engine process (unset: appsettings)  [unset]
          --no-wrk              do not use wrk even if it is installed

        recovery:
          --shards N            shards of the engine that is recovered                   [1]

        journal, recovery:
          --store S             file | postgres | both: the engine's store; postgres starts a
                                throwaway PostgreSQL server (initdb, fsync on) for the run  [file]
          --journal-shards N    (journal) shards the placements are spread over; each has its
                                own journal (and PostgreSQL connection)                 [1]
          --no-read-model       (journal, postgres) Engine:History:ReadModel=false: the journal
                                alone, no history projector on the node

        copy:
          --followers N         followers of the one strategy                            [10000]
          --copy-shards N       shards they are spread over (the leader is on one)       [4]
          --reps N              measured fan-outs                                        [21]
          --warmup N            fan-outs before them (JIT tiering, the heap's growth)    [10]
          --part P              grains (one shard's grains, no runtime), engine or both  [both]

        experiments (not in all): probe-place, probe-fire, probe-trailing (costs behind the report's hot spots)

        general:
          --data-root DIR       where temporary data folders go                          [system temp]
          --keep-data           keep temporary data folders
          --verbose             print the engine's log lines
        """;

    public string Workload { get; private set; } = "";
    public int Orders { get; private set; } = 1_000_000;
    public int Accounts { get; private set; } = 1_000;
    public int Reps { get; private set; } = 5;
    public int Seed { get; private set; } = 42;
    public int Ticks { get; private set; } = 2_000_000;
    public int NaiveTicks { get; private set; } = 300;
    public int RuntimeTicks { get; private set; } = 1_000_000;
    public double[] Confirmed { get; private set; } = [0.1, 1.0];
    public double TickSpacingMicros { get; private set; } = 1000;
    public bool IndexOnly { get; private set; }
    public bool Runtime { get; private set; } = true;
    public int Concurrency { get; private set; } = 256;
    public int[] Sweep { get; private set; } = [64, 1024, 4096];
    public double Seconds { get; private set; } = 5;
    public double Warmup { get; private set; } = -1;
    public int HttpConcurrency { get; private set; } = 128;
    public double HttpSeconds { get; private set; } = 10;
    public int? HttpShards { get; private set; }
    public bool Wrk { get; private set; } = true;
    public int Shards { get; private set; } = 1;
    public string[] Stores { get; private set; } = ["file"];
    public int JournalShards { get; private set; } = 1;
    public bool ReadModel { get; private set; } = true;
    public int Followers { get; private set; } = 10_000;
    public int CopyShards { get; private set; } = 4;
    public string CopyPart { get; private set; } = "both";
    public string DataRoot { get; private set; } = Path.GetTempPath();
    public bool KeepData { get; private set; }
    public bool Verbose { get; private set; }

    public double JournalWarmup => Warmup >= 0 ? Warmup : 1;

    // A fan-out is one measurement, and the host is noisy: a median needs many. The first fan-outs run
    // code the JIT has not tiered up yet and grow the heap from empty, which a running engine did long ago.
    public int CopyReps => _repsGiven ? Reps : 21;
    public int CopyWarmups => Warmup >= 0 ? (int)Warmup : 10;

    private bool _repsGiven;
    // The engine process JITs its whole request path in the first seconds: 2 s leaves the first
    // repetition visibly cold (about 60% of the steady rate), 5 s does not.
    public double HttpWarmup => Warmup >= 0 ? Warmup : 5;

    public static BenchArgs? Parse(string[] args)
    {
        if (args.Length == 0) return null;
        var a = new BenchArgs { Workload = args[0].ToLowerInvariant() };
        if (a.Workload != "all" && a.Workload != "risk" && a.Workload != "copy" && !Workloads.Contains(a.Workload) && !a.Workload.StartsWith("probe", StringComparison.Ordinal)) return null;
        try
        {
            for (var i = 1; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int Int() => int.Parse(Next().Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture);
                double Dbl() => double.Parse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture);
                switch (args[i])
                {
                    case "--orders": a.Orders = Int(); break;
                    case "--accounts": a.Accounts = Int(); break;
                    case "--reps":
                        a.Reps = Int();
                        a._repsGiven = true;
                        break;
                    case "--seed": a.Seed = Int(); break;
                    case "--ticks": a.Ticks = Int(); break;
                    case "--naive-ticks": a.NaiveTicks = Int(); break;
                    case "--runtime-ticks": a.RuntimeTicks = Int(); break;
                    case "--quote":
                        var q = Next();
                        a.IndexOnly = q switch
                        {
                            "all" => false,
                            "index" => true,
                            _ => throw new ArgumentException("--quote is all or index"),
                        };
                        break;
                    case "--no-runtime": a.Runtime = false; break;
                    case "--tick-spacing-us":
                        a.TickSpacingMicros = Dbl();
                        if (a.TickSpacingMicros is <= 0 or > 100_000) throw new ArgumentException("--tick-spacing-us is 0 to 100000");
                        break;
                    case "--confirmed":
                        a.Confirmed = Next().Split(',').Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
                        if (a.Confirmed.Length == 0 || a.Confirmed.Any(f => f is < 0 or > 1)) throw new ArgumentException("--confirmed takes fractions from 0 to 1");
                        break;
                    case "--concurrency": a.Concurrency = Int(); break;
                    case "--sweep":
                        var list = Next();
                        a.Sweep = list is "" or "none"
                            ? []
                            : list.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                        break;
                    case "--seconds": a.Seconds = Dbl(); break;
                    case "--warmup": a.Warmup = Dbl(); break;
                    case "--http-concurrency": a.HttpConcurrency = Int(); break;
                    case "--http-seconds": a.HttpSeconds = Dbl(); break;
                    case "--http-shards": a.HttpShards = Int(); break;
                    case "--no-wrk": a.Wrk = false; break;
                    case "--shards": a.Shards = Int(); break;
                    case "--journal-shards": a.JournalShards = Int(); break;
                    case "--no-read-model": a.ReadModel = false; break;
                    case "--store":
                        a.Stores = Next() switch
                        {
                            "file" => ["file"],
                            "postgres" => ["postgres"],
                            "both" => ["file", "postgres"],
                            _ => throw new ArgumentException("--store is file, postgres or both"),
                        };
                        break;
                    case "--followers": a.Followers = Int(); break;
                    case "--copy-shards": a.CopyShards = Int(); break;
                    case "--part":
                        a.CopyPart = Next();
                        if (a.CopyPart is not ("grains" or "engine" or "both")) throw new ArgumentException("--part is grains, engine or both");
                        break;
                    case "--data-root": a.DataRoot = Next(); break;
                    case "--keep-data": a.KeepData = true; break;
                    case "--verbose": a.Verbose = true; break;
                    case "--quick":
                        a.Orders = 100_000;
                        a.Accounts = 200;
                        a.Ticks = 200_000;
                        a.NaiveTicks = 200;
                        a.RuntimeTicks = 100_000;
                        a.Reps = 3;
                        a.Seconds = 2;
                        a.HttpSeconds = 3;
                        a.Warmup = 1;
                        a.Sweep = [1024];
                        break;
                    default:
                        throw new ArgumentException($"unknown option {args[i]}");
                }
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(ex.Message);
            return null;
        }

        if (a.Orders < 1 || a.Accounts < 1 || a.Reps < 1 || a.Ticks < 1 || a.NaiveTicks < 1 || a.Concurrency < 1 || a.HttpConcurrency < 1)
        {
            Console.Error.WriteLine("sizes must be positive");
            return null;
        }

        return a;
    }
}
