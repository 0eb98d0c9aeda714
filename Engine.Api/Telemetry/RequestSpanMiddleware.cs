using System.Diagnostics;

namespace Engine.Api.Telemetry;

/// <summary>
/// Names and tags ASP.NET Core's request span (semantic conventions for HTTP servers), which the framework
/// starts but leaves bare; the OpenTelemetry instrumentation package that would do it is not available here.
/// Costs nothing when no trace listener is attached (there is no span then).
/// </summary>
public sealed class RequestSpanMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var activity = Activity.Current;
        if (activity is null || activity.OperationName != "Microsoft.AspNetCore.Hosting.HttpRequestIn")
        {
            await next(http);
            return;
        }

        try
        {
            await next(http);
        }
        finally
        {
            var method = http.Request.Method;
            var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
            activity.DisplayName = route is null ? method : $"{method} {route}";
            activity.SetTag("http.request.method", method);
            activity.SetTag("url.path", http.Request.Path.Value);
            if (route is not null) activity.SetTag("http.route", route);
            var status = http.Response.StatusCode;
            activity.SetTag("http.response.status_code", status);
            if (status >= 500) activity.SetStatus(ActivityStatusCode.Error);
        }
    }
}
