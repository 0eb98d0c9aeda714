using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Engine.Tests.Support;

/// <summary>
/// A stand-in OpenTelemetry collector: a real HTTP server on a free loopback port that takes OTLP/HTTP
/// protobuf exports (<c>/v1/metrics</c>, <c>/v1/traces</c>) and keeps their bodies. Protobuf stores strings
/// as plain UTF-8, so a metric or span name sent is found in the bytes received.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(string Path, byte[] Body)> _received = [];

    private OtlpReceiver(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = "";

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (HttpContext http, string signal) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            lock (receiver._received) receiver._received.Add((signal, body.ToArray()));
            // An empty ExportServiceResponse is an empty protobuf message.
            http.Response.ContentType = "application/x-protobuf";
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        receiver.Endpoint = app.Urls.Single();
        return receiver;
    }

    /// <summary>How many exports of <paramref name="signal"/> (metrics, traces) arrived.</summary>
    public int Count(string signal)
    {
        lock (_received) return _received.Count(r => r.Path == signal);
    }

    /// <summary>Which of <paramref name="names"/> appear in some export of <paramref name="signal"/>.</summary>
    public IReadOnlySet<string> Seen(string signal, IEnumerable<string> names)
    {
        lock (_received)
        {
            var texts = _received.Where(r => r.Path == signal).Select(r => Encoding.UTF8.GetString(r.Body)).ToList();
            return names.Where(n => texts.Any(t => t.Contains(n, StringComparison.Ordinal))).ToHashSet();
        }
    }

    /// <summary>Waits (bounded) until every name has been received for the signal; returns what was seen.</summary>
    public async Task<IReadOnlySet<string>> WaitForAsync(string signal, IReadOnlyCollection<string> names, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var seen = Seen(signal, names);
            if (seen.Count == names.Count || DateTime.UtcNow > deadline) return seen;
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
