using Engine.Silo.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Engine.Api.Telemetry;

/// <summary>
/// OTLP export of the engine's traces and metrics, configured by the standard <c>OTEL_*</c> variables (read
/// through the app's configuration, so environment, appsettings and command line all work). A signal is
/// exported only when an OTLP endpoint is configured for it (or its exporter is set to <c>otlp</c>), and
/// nothing at all when <c>OTEL_SDK_DISABLED</c> is true: an engine with no collector sends nothing anywhere.
/// </summary>
public sealed class OtlpTelemetry(IConfiguration configuration, ILogger<OtlpTelemetry> log) : IHostedService, IDisposable
{
    /// <summary>ASP.NET Core's own sources: request spans and the HTTP server and Kestrel metrics.</summary>
    private static readonly string[] AspNetCoreMeters = ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    private TracerProvider? _traces;
    private MeterProvider? _metrics;

    /// <summary>Which signals the configuration asks to export.</summary>
    public readonly record struct Signals(bool Traces, bool Metrics);

    public static Signals Configured(IConfiguration configuration)
    {
        if (string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase)) return new(false, false);
        var anyEndpoint = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

        bool Wanted(string exporterKey, string endpointKey)
        {
            var exporter = configuration[exporterKey];
            if (exporter is not null && !exporter.Split(',').Any(e => e.Trim().Equals("otlp", StringComparison.OrdinalIgnoreCase))) return false;
            return exporter is not null || anyEndpoint || !string.IsNullOrWhiteSpace(configuration[endpointKey]);
        }

        return new(
            Wanted("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            Wanted("OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"));
    }

    /// <summary>Starts before the engine (registered first), so recovery and the first requests are observed.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var signals = Configured(configuration);
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "engine";
        void Resource(ResourceBuilder resource) => resource.AddService(serviceName);
        // The SDK reads its OTEL_* options from the IConfiguration in its own services: give it the app's.
        if (signals.Traces)
        {
            _traces = Sdk.CreateTracerProviderBuilder()
                .ConfigureServices(services => services.AddSingleton(configuration))
                .ConfigureResource(Resource)
                .AddSource(EngineTelemetry.Name, "Microsoft.AspNetCore")
                .AddOtlpExporter()
                .Build();
        }

        if (signals.Metrics)
        {
            _metrics = Sdk.CreateMeterProviderBuilder()
                .ConfigureServices(services => services.AddSingleton(configuration))
                .ConfigureResource(Resource)
                .AddMeter(EngineTelemetry.Name)
                .AddMeter(AspNetCoreMeters)
                .AddOtlpExporter()
                .Build();
        }

        if (signals.Traces || signals.Metrics)
            log.LogInformation("OpenTelemetry: exporting {Signals} over OTLP as service {Service}",
                string.Join(" and ", new[] { signals.Traces ? "traces" : null, signals.Metrics ? "metrics" : null }.OfType<string>()), serviceName);
        return Task.CompletedTask;
    }

    /// <summary>Flushes what is buffered (disposing exports the last batch) after the engine has stopped.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        // The host can stop twice at once (a test factory and the app's own Run): the SDK's Dispose is not thread-safe.
        Interlocked.Exchange(ref _traces, null)?.Dispose();
        Interlocked.Exchange(ref _metrics, null)?.Dispose();
    }
}
