using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Engine.Tests.Durability;

/// <summary>
/// The real engine executable (<c>dotnet Engine.Api.dll</c>) as a child process on a free port and a
/// data folder of the test's choosing, with its console output kept line by line. Killing it is a
/// SIGKILL: no shutdown code runs, exactly like a crash.
/// </summary>
internal sealed class EngineProcess : IAsyncDisposable
{
    public const string OperatorKey = "op-test";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(45);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<string> _echo;

    private EngineProcess(Process process, Uri address, Action<string> echo)
    {
        _process = process;
        _echo = echo;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Every line the process wrote to stdout or stderr so far.</summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <summary>Starts the engine on <paramref name="dataDirectory"/> and waits until /health/ready answers 200.</summary>
    public static async Task<EngineProcess> StartAsync(string dataDirectory, int shards, Action<string> echo, IReadOnlyDictionary<string, string>? environment = null)
    {
        // The free port is found by binding port 0 and letting it go; another process may take it
        // before the engine binds it, so a start that fails on exactly that is retried on a new port.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(dataDirectory, shards, echo, environment);
            }
            catch (PortTakenException) when (attempt < 3)
            {
                echo("the port was taken before the engine bound it; retrying on another port");
            }
        }
    }

    private static async Task<EngineProcess> StartOnceAsync(string dataDirectory, int shards, Action<string> echo, IReadOnlyDictionary<string, string>? environment)
    {
        var dll = EngineDll();
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var inherited in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_URLS" })
            info.Environment.Remove(inherited);
        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["Engine__DataDirectory"] = dataDirectory;
        info.Environment["Engine__OperatorApiKey"] = OperatorKey;
        info.Environment["Engine__SimulatedFeed__Enabled"] = "false";
        info.Environment["Engine__Shards"] = shards.ToString(CultureInfo.InvariantCulture);
        info.Environment["Engine__Slippage"] = "0";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        info.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        info.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;

        var process = new Process { StartInfo = info };
        var engine = new EngineProcess(process, new Uri($"http://127.0.0.1:{port}"), echo);
        process.OutputDataReceived += (_, e) => engine.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => engine.Keep(e.Data);
        if (!process.Start()) throw new InvalidOperationException("could not start dotnet " + dll);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        echo($"started engine pid {process.Id} on port {port}, {shards} shards, data {dataDirectory}");
        try
        {
            await engine.WaitReadyAsync();
        }
        catch
        {
            await engine.DisposeAsync();
            throw;
        }

        return engine;
    }

    /// <summary>SIGKILL (the whole tree, which is this one process): no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await WaitForExitAsync();
        _echo($"engine pid {_process.Id} killed (SIGKILL)");
    }

    /// <summary>SIGTERM, the clean stop an orchestrator sends; waits (bounded) for the process to end.</summary>
    public async Task TerminateAsync()
    {
        var kill = new ProcessStartInfo("kill") { UseShellExecute = false };
        kill.ArgumentList.Add("-TERM");
        kill.ArgumentList.Add(_process.Id.ToString(CultureInfo.InvariantCulture));
        using (var signal = Process.Start(kill) ?? throw new InvalidOperationException("could not run kill"))
        {
            await signal.WaitForExitAsync();
            if (signal.ExitCode != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed with {signal.ExitCode}");
        }

        await WaitForExitAsync();
        _echo($"engine pid {_process.Id} stopped by SIGTERM, exit code {_process.ExitCode}");
    }

    /// <summary>Waits (bounded) until a line of output matches; the console logger writes asynchronously.</summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var line = _output.FirstOrDefault(match);
            if (line is not null || deadline.Elapsed > timeout) return line;
            await Task.Delay(50);
        }
    }

    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string apiKey, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", apiKey);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>Sends and insists on <paramref name="expected"/>; the failure message carries the answer.</summary>
    public async Task<JsonNode> CallAsync(HttpMethod method, string path, string apiKey, JsonNode? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var (status, answer) = await SendAsync(method, path, apiKey, body);
        if (status != expected)
            throw new Xunit.Sdk.XunitException($"{method} {path} answered {(int)status} instead of {(int)expected}: {answer?.ToJsonString()}");
        return answer ?? throw new Xunit.Sdk.XunitException($"{method} {path} answered {(int)status} without a body");
    }

    public Task<JsonNode> GetAsync(string path, string apiKey = OperatorKey) => CallAsync(HttpMethod.Get, path, apiKey);

    public Task<JsonNode> PostAsync(string path, string apiKey, JsonNode body, HttpStatusCode expected = HttpStatusCode.OK) =>
        CallAsync(HttpMethod.Post, path, apiKey, body, expected);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone.
        }
        finally
        {
            Http.Dispose();
            _process.Dispose();
        }
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        _echo(line);
        // The host logs this once the server listens; the engine recovers in the background after it.
        if (line.Contains("Application started", StringComparison.Ordinal)) _started.TrySetResult();
    }

    private async Task WaitReadyAsync()
    {
        var clock = Stopwatch.StartNew();
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_started.Task, exited, Task.Delay(ReadyTimeout));
        if (first == exited)
        {
            await WaitForExitAsync();
            if (_output.Any(l => l.Contains("address already in use", StringComparison.OrdinalIgnoreCase))) throw new PortTakenException();
            throw new Xunit.Sdk.XunitException($"the engine exited with code {_process.ExitCode} before it was ready:\n{string.Join('\n', _output)}");
        }

        if (first != _started.Task)
            throw new Xunit.Sdk.XunitException($"the engine was not ready after {ReadyTimeout.TotalSeconds} s:\n{string.Join('\n', _output)}");

        // Live at once, ready once recovery has finished: poll readiness (the process may also exit meanwhile).
        using var probe = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var status = HttpStatusCode.ServiceUnavailable;
        while (clock.Elapsed < ReadyTimeout && !exited.IsCompleted)
        {
            using (var live = await probe.GetAsync("/health/live"))
                if (live.StatusCode != HttpStatusCode.OK)
                    throw new Xunit.Sdk.XunitException($"the engine listens but /health/live answered {(int)live.StatusCode}:\n{string.Join('\n', _output)}");
            using (var response = await probe.GetAsync("/health/ready")) status = response.StatusCode;
            if (status == HttpStatusCode.OK) break;
            await Task.Delay(50);
        }

        if (status != HttpStatusCode.OK)
            throw new Xunit.Sdk.XunitException($"the engine listens but /health/ready answered {(int)status}:\n{string.Join('\n', _output)}");
        _echo($"engine pid {_process.Id} ready after {clock.ElapsedMilliseconds} ms");
    }

    private async Task WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(ExitTimeout);
        try
        {
            // Also waits until the redirected output has been read to its end.
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"the engine (pid {_process.Id}) did not exit within {ExitTimeout.TotalSeconds} s");
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>
    /// Engine.Api/bin/{Configuration}/net10.0/Engine.Api.dll of the same configuration as this test
    /// assembly (Engine.Tests/bin/{Configuration}/net10.0/).
    /// </summary>
    private static string EngineDll()
    {
        var testBin = new DirectoryInfo(Path.GetDirectoryName(typeof(EngineProcess).Assembly.Location)!);
        var framework = testBin.Name;
        var configuration = testBin.Parent?.Name ?? throw new InvalidOperationException("unexpected test output folder " + testBin.FullName);
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Engine.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("Engine.sln not found above " + testBin.FullName);
        var dll = Path.Combine(root.FullName, "Engine.Api", "bin", configuration, framework, "Engine.Api.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} does not exist: build Engine.sln ({configuration}) first");
        return dll;
    }

    private sealed class PortTakenException : Exception;
}
