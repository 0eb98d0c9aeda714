using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Engine.Bench;

/// <summary>
/// Workload 3: order placements over HTTP. The real engine runs as its own process
/// (<c>dotnet Engine.Api/bin/Release/net10.0/Engine.Api.dll</c>, appsettings defaults plus a temporary
/// data folder, a fixed operator key and the simulated feed off) on a loopback port. A built-in
/// generator (HttpClient, SocketsHttpHandler, one connection per concurrent request) keeps N
/// POST /v1/accounts/{id}/orders in flight, each caller with its own account; then, when installed,
/// wrk drives the same requests as a second opinion. Client and server share this machine's cores.
/// </summary>
internal static partial class HttpWorkload
{
    public static async Task RunAsync(BenchArgs a, Report report)
    {
        var dll = FindApi();
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var dir = SiloHarness.NewDirectory(a, "http");
        Console.WriteLine($"engine process: dotnet {dll} on {baseUrl} (Engine__Shards={a.HttpShards?.ToString(CultureInfo.InvariantCulture) ?? "appsettings default"}, "
            + $"simulated feed off); {a.HttpConcurrency} concurrent requests; {a.HttpWarmup:0.#} s warm-up, then {a.Reps} x {a.HttpSeconds:0.#} s back to back");
        using var server = StartServer(dll, baseUrl, dir, a.HttpShards);
        try
        {
            using var client = NewClient(a.HttpConcurrency, baseUrl);
            await WaitReadyAsync(client, server);
            var accounts = await CreateAccountsAsync(client, a.HttpConcurrency);
            var bodies = Bodies(64);

            var (rates, p50s, p99s) = await BuiltInAsync(a, client, accounts, bodies, server.Process.Id, a.HttpConcurrency, a.Reps, a.HttpWarmup);
            var rate = Stats.Median(rates);
            var p99 = Stats.Median(p99s);
            report.Add("http", $"placements/s over HTTP (built-in, {a.HttpConcurrency} conc.)", Stats.Rate(rate), ">= 10,000/s", rate >= 10_000);
            report.Add("http", "  p50 latency (built-in)", Stats.Us(Stats.Median(p50s)));
            report.Add("http", "  p99 latency (built-in)", Stats.Us(p99), "< 20 ms", p99 < 20_000);

            if (a.Wrk && Which("wrk") is { } wrk)
            {
                var w = await WrkAsync(a, wrk, baseUrl, accounts, bodies, dir, server.Process.Id);
                if (w is { } r)
                {
                    report.Add("http", $"placements/s over HTTP (wrk, {a.HttpConcurrency} conn.)", Stats.Rate(r.Rate), ">= 10,000/s", r.Rate >= 10_000);
                    report.Add("http", "  p50 / p99 latency (wrk)", $"{Stats.Us(r.P50)} / {Stats.Us(r.P99)}", "p99 < 20 ms", r.P99 < 20_000);
                }
            }
            else
            {
                Console.WriteLine("wrk: not used (not installed, or --no-wrk); `apt-get install -y wrk` adds it as a second generator");
            }

            // Latency follows the in-flight count (Little's law): the same engine at half the concurrency.
            var half = Math.Max(1, a.HttpConcurrency / 2);
            Console.WriteLine();
            var (hr, h50, h99) = await BuiltInAsync(a, client, accounts, bodies, server.Process.Id, half, 1, 1);
            report.Add("http", $"  built-in at {half} concurrent (1 rep)", $"{Stats.Rate(hr[0])}, p50 {Stats.Us(h50[0])}, p99 {Stats.Us(h99[0])}", ">= 10,000/s and p99 < 20 ms", hr[0] >= 10_000 && h99[0] < 20_000);
        }
        finally
        {
            await server.StopAsync();
            SiloHarness.DeleteDirectory(a, dir);
        }
    }

    private static async Task<(List<double> Rates, List<double> P50s, List<double> P99s)> BuiltInAsync(
        BenchArgs a, HttpClient client, (string Id, string Key)[] accounts, byte[][] bodies, int serverPid, int concurrency, int reps, double warmup)
    {
        var freq = Stopwatch.Frequency;
        var start = Stopwatch.GetTimestamp();
        var warmEnd = start + (long)(warmup * freq);
        var windows = Enumerable.Range(0, reps).Select(r => (From: warmEnd + (long)(r * a.HttpSeconds * freq), To: warmEnd + (long)((r + 1) * a.HttpSeconds * freq))).ToArray();
        var end = windows[^1].To;
        var samples = new List<(long Done, double Micros)>[concurrency];
        var errors = 0;
        string? firstError = null;

        async Task Worker(int w)
        {
            var list = samples[w] = new List<(long, double)>(1 << 16);
            var (id, key) = accounts[w % accounts.Length];
            var path = $"/v1/accounts/{id}/orders";
            var n = w;
            while (Stopwatch.GetTimestamp() < end)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path);
                request.Headers.TryAddWithoutValidation("X-Api-Key", key);
                request.Content = new ByteArrayContent(bodies[n++ % bodies.Length]);
                request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
                    var t1 = Stopwatch.GetTimestamp();
                    if (response.StatusCode != HttpStatusCode.Created)
                    {
                        if (Interlocked.Increment(ref errors) == 1) firstError = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                        continue;
                    }

                    list.Add((t1, Stats.TicksToMicros(t1 - t0)));
                }
                catch (HttpRequestException ex)
                {
                    if (Interlocked.Increment(ref errors) == 1) firstError = ex.Message;
                }
            }
        }

        var cpu = new List<(string Text, double EngineCores)>();
        var monitor = Task.Run(async () =>
        {
            foreach (var (from, to) in windows)
            {
                await DelayUntil(from);
                var window = new CpuWindow(serverPid);
                var server = EngineCpu(serverPid);
                await DelayUntil(to);
                var seconds = (double)(to - from) / Stopwatch.Frequency;
                cpu.Add((CpuWindow.Describe(window.Stop()), (EngineCpu(serverPid) - server).TotalSeconds / seconds));
            }
        });
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(() => Worker(w))));
        await monitor;
        if (errors > 0) Console.WriteLine($"  WARNING: {errors} requests failed; first: {firstError}");

        var rates = new List<double>();
        var p50s = new List<double>();
        var p99s = new List<double>();
        var table = new Table("rep", "requests/s (201)", "p50", "p99", "p99.9", "max", "engine process CPU per request", "CPU during the window (bench + engine process vs others)");
        for (var r = 0; r < windows.Length; r++)
        {
            var (from, to) = windows[r];
            var lat = new Latencies(1 << 16);
            foreach (var list in samples)
                foreach (var (done, us) in list)
                    if (done >= from && done < to)
                        lat.Add(us);
            var rate = lat.Count / a.HttpSeconds;
            var (p50, p99, p999, max) = lat.Summary();
            rates.Add(rate);
            p50s.Add(p50);
            p99s.Add(p99);
            table.Row(r + 1, Stats.Rate(rate), Stats.Us(p50), Stats.Us(p99), Stats.Us(p999), Stats.Us(max), Stats.Us(cpu[r].EngineCores * 1e6 / Math.Max(1, rate)), cpu[r].Text);
        }

        Console.WriteLine($"built-in generator (HttpClient), {concurrency} concurrent requests:");
        table.Print();
        Console.WriteLine($"median of {reps}: {Stats.Rate(Stats.Median(rates))}, p50 {Stats.Us(Stats.Median(p50s))}, p99 {Stats.Us(Stats.Median(p99s))}");
        return (rates, p50s, p99s);
    }

    private static async Task<(double Rate, double P50, double P99)?> WrkAsync(
        BenchArgs a, string wrk, string baseUrl, (string Id, string Key)[] accounts, byte[][] bodies, string dir, int serverPid)
    {
        var script = Path.Combine(dir, "orders.lua");
        var sb = new StringBuilder();
        sb.AppendLine("local paths = {}\nlocal keys = {}\nlocal bodies = {}");
        for (var i = 0; i < accounts.Length; i++)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"paths[{i + 1}] = \"/v1/accounts/{accounts[i].Id}/orders\"");
            sb.AppendLine(CultureInfo.InvariantCulture, $"keys[{i + 1}] = \"{accounts[i].Key}\"");
        }

        for (var i = 0; i < bodies.Length; i++) sb.AppendLine(CultureInfo.InvariantCulture, $"bodies[{i + 1}] = '{Encoding.UTF8.GetString(bodies[i])}'");
        sb.AppendLine($$"""
            local counter = 0
            request = function()
              counter = counter + 1
              local i = (counter % {{accounts.Length}}) + 1
              local b = (counter % {{bodies.Length}}) + 1
              return wrk.format("POST", paths[i], { ["X-Api-Key"] = keys[i], ["Content-Type"] = "application/json" }, bodies[b])
            end
            """);
        await File.WriteAllTextAsync(script, sb.ToString());

        var reps = Math.Min(3, a.Reps);
        var rates = new List<double>();
        var p50s = new List<double>();
        var p99s = new List<double>();
        var table = new Table("rep", "requests/s", "p50", "p99", "non-2xx", "CPU during the run (wrk counts as another process)");
        for (var r = 0; r < reps; r++)
        {
            var window = new CpuWindow(serverPid);
            var psi = new ProcessStartInfo(wrk)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "-t2", $"-c{a.HttpConcurrency}", $"-d{a.HttpSeconds.ToString(CultureInfo.InvariantCulture)}s", "--latency", "-s", script, baseUrl })
                psi.ArgumentList.Add(arg);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            var output = await stdout + await stderr;
            var cpu = CpuWindow.Describe(window.Stop());
            var rate = Match(output, @"Requests/sec:\s+([\d.]+)");
            var p50 = Latency(output, "50%");
            var p99 = Latency(output, "99%");
            var non2xx = MatchText(output, @"Non-2xx or 3xx responses:\s+(\d+)") ?? "0";
            if (rate is null || p50 is null || p99 is null)
            {
                Console.WriteLine("wrk output not understood:\n" + output);
                return null;
            }

            // wrk counts every response; non-2xx ones are not placements.
            var total = Match(output, @"(\d+) requests in") ?? 0;
            var bad = double.Parse(non2xx, CultureInfo.InvariantCulture);
            var placed = total > 0 ? rate.Value * (total - bad) / total : rate.Value;
            rates.Add(placed);
            p50s.Add(p50.Value);
            p99s.Add(p99.Value);
            table.Row(r + 1, Stats.Rate(placed), Stats.Us(p50.Value), Stats.Us(p99.Value), non2xx, cpu);
        }

        Console.WriteLine($"wrk -t2 -c{a.HttpConcurrency} -d{a.HttpSeconds}s --latency (same requests, Lua script):");
        table.Print();
        var result = (Stats.Median(rates), Stats.Median(p50s), Stats.Median(p99s));
        Console.WriteLine($"median of {reps}: {Stats.Rate(result.Item1)}, p50 {Stats.Us(result.Item2)}, p99 {Stats.Us(result.Item3)}");
        return result;
    }

    private static double? Match(string text, string pattern)
    {
        var m = Regex.Match(text, pattern);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    private static string? MatchText(string text, string pattern)
    {
        var m = Regex.Match(text, pattern);
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>A wrk latency-distribution line ("99%   12.34ms") in microseconds.</summary>
    private static double? Latency(string text, string percentile)
    {
        var m = Regex.Match(text, @"^\s*" + Regex.Escape(percentile) + @"\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!m.Success) return null;
        var v = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch
        {
            "us" => v,
            "ms" => v * 1000,
            _ => v * 1_000_000,
        };
    }

    private static byte[][] Bodies(int count)
    {
        var bodies = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var s = i % Market.Count;
            var inst = Market.Instruments[s];
            var p0 = Market.StartPrices[s];
            var buy = i % 2 == 0;
            var away = 0.4m + i / 1000m;
            var trigger = buy ? inst.CeilToTick(p0 * (1 + away)) : inst.FloorToTick(p0 * (1 - away));
            var json = JsonSerializer.Serialize(new
            {
                symbol = inst.Symbol,
                side = buy ? "buy" : "sell",
                type = "stop",
                quantity = OrderMix.QuantityFor(inst, p0).ToString(CultureInfo.InvariantCulture),
                triggerPrice = trigger.ToString(CultureInfo.InvariantCulture),
            });
            bodies[i] = Encoding.UTF8.GetBytes(json);
        }

        return bodies;
    }

    private static async Task<(string Id, string Key)[]> CreateAccountsAsync(HttpClient client, int count)
    {
        var accounts = new (string, string)[count];
        await SiloHarness.RunConcurrentAsync(count, 16, async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/accounts");
            request.Headers.TryAddWithoutValidation("X-Api-Key", SiloHarness.OperatorKey);
            request.Content = new StringContent(JsonSerializer.Serialize(new { name = $"bench {i}" }), Encoding.UTF8, "application/json");
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"POST /v1/accounts: {(int)response.StatusCode} {text}");
            using var doc = JsonDocument.Parse(text);
            accounts[i] = (doc.RootElement.GetProperty("accountId").GetString()!, doc.RootElement.GetProperty("apiKey").GetString()!);
        });
        return accounts;
    }

    private static HttpClient NewClient(int connections, string baseUrl) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = new Uri(baseUrl),
        Timeout = TimeSpan.FromSeconds(60),
    };

    private static async Task WaitReadyAsync(HttpClient client, EngineProcess server)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (server.Process.HasExited) throw new InvalidOperationException("the engine process exited:\n" + server.Tail());
            try
            {
                using var response = await client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Console.WriteLine($"engine ready after {watch.Elapsed.TotalSeconds:F1} s (pid {server.Process.Id})");
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the engine did not become ready:\n" + server.Tail());
    }

    private static string FindApi()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        for (var d = dir; d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "Engine.Api", "bin", "Release", "net10.0", "Engine.Api.dll");
            if (File.Exists(candidate)) return candidate;
        }

        throw new FileNotFoundException("Engine.Api/bin/Release/net10.0/Engine.Api.dll not found: dotnet build -c Release Engine.Bench (it builds Engine.Api)");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(p => Path.Combine(p, name)).FirstOrDefault(File.Exists);

    private static TimeSpan EngineCpu(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.TotalProcessorTime;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return TimeSpan.Zero;
        }
    }

    private static async Task DelayUntil(long timestamp)
    {
        var wait = timestamp - Stopwatch.GetTimestamp();
        if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
    }

    private static EngineProcess StartServer(string dll, string url, string dataDir, int? shards)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        psi.Environment["ASPNETCORE_URLS"] = url;
        psi.Environment["Urls"] = url;
        psi.Environment["Engine__DataDirectory"] = dataDir;
        psi.Environment["Engine__OperatorApiKey"] = SiloHarness.OperatorKey;
        psi.Environment["Engine__SimulatedFeed__Enabled"] = "false";
        if (shards is { } s) psi.Environment["Engine__Shards"] = s.ToString(CultureInfo.InvariantCulture);
        return new EngineProcess(Process.Start(psi)!);
    }

    /// <summary>The engine's process, its output kept (and drained so it never blocks).</summary>
    private sealed class EngineProcess : IDisposable
    {
        private readonly Queue<string> _tail = new();

        public EngineProcess(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Keep(e.Data);
            process.ErrorDataReceived += (_, e) => Keep(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Tail()
        {
            lock (_tail) return string.Join('\n', _tail);
        }

        /// <summary>SIGTERM (graceful: the engine snapshots), then SIGKILL after a minute.</summary>
        public async Task StopAsync()
        {
            if (Process.HasExited) return;
            var watch = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await Process.WaitForExitAsync(timeout.Token);
                Console.WriteLine($"engine process stopped gracefully in {watch.Elapsed.TotalSeconds:F1} s (exit code {Process.ExitCode})");
            }
            catch (OperationCanceledException)
            {
                Process.Kill(entireProcessTree: true);
                Console.WriteLine("engine process killed after 60 s");
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }

        private void Keep(string? line)
        {
            if (line is null) return;
            lock (_tail)
            {
                _tail.Enqueue(line);
                if (_tail.Count > 40) _tail.Dequeue();
            }
        }
    }
}
