using System.Net;
using Engine.Api.Telemetry;
using Engine.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Engine.Tests.Api;

public sealed class TelemetryApiTests
{
    private static readonly string[] EngineMetrics =
    [
        "engine.trigger.latency", "engine.triggers.fired", "engine.journal.batch.size", "engine.journal.commit.duration",
        "engine.shard.mailbox.depth", "http.server.request.duration",
    ];

    [Fact]
    public async Task OtlpEndpoint_Configured_CollectorReceivesEngineMetricsAndCommandSpans()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        await using var app = EngineApp.With(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_SERVICE_NAME"] = "engine-under-test",
        });
        var trader = await app.CreateTraderAsync();
        await app.SetPriceAsync("ETH-USDT", "2000");
        var (status, body) = await app.PostAsync($"/v1/accounts/{trader.AccountId}/orders",
            new { symbol = "ETH-USDT", side = "buy", type = "stop", quantity = "0.1", triggerPrice = "2010" }, trader.ApiKey);
        Assert.True(status == HttpStatusCode.Created, body.ToString());
        await app.SetPriceAsync("ETH-USDT", "2011");

        var metrics = await collector.WaitForAsync("metrics", EngineMetrics, TimeSpan.FromSeconds(30));
        Assert.Equal(EngineMetrics.Order(), metrics.Order());
        string[] spans = ["PlaceOrder", "engine-under-test", "POST /v1/accounts/{accountId}/orders", "http.route"];
        var traced = await collector.WaitForAsync("traces", spans, TimeSpan.FromSeconds(30));
        Assert.Equal(spans.Order(), traced.Order());
    }

    [Theory]
    [InlineData(new string[0], false, false)]
    [InlineData(new[] { "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318" }, true, true)]
    [InlineData(new[] { "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://collector:4318/v1/metrics" }, false, true)]
    [InlineData(new[] { "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318", "OTEL_TRACES_EXPORTER=none" }, false, true)]
    [InlineData(new[] { "OTEL_TRACES_EXPORTER=otlp" }, true, false)]
    [InlineData(new[] { "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318", "OTEL_SDK_DISABLED=true" }, false, false)]
    public void Configured_OtelVariables_ExportOnlyTheSignalsAskedFor(string[] variables, bool traces, bool metrics)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(variables.Select(v => v.Split('=', 2))
            .Select(kv => new KeyValuePair<string, string?>(kv[0], kv[1]))).Build();

        Assert.Equal(new OtlpTelemetry.Signals(traces, metrics), OtlpTelemetry.Configured(configuration));
    }
}
