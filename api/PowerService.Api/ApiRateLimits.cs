using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace PowerService.Api;

/// <summary>Rate limits (built-in ASP.NET Core limiter): public endpoints are limited per client address, so one
/// client guessing passwords or flooding cannot starve the others. A refused request gets 429 with Retry-After.</summary>
public static class ApiRateLimits
{
    public const string Public = "public";

    internal static void Configure(RateLimiterOptions options, ApiOptions api)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = async (context, cancellationToken) =>
        {
            context.HttpContext.Response.Headers.RetryAfter = ((int)api.PublicRateWindow.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Results.Problem(
                title: "Too many requests",
                detail: $"At most {api.PublicRateLimit} requests per {api.PublicRateWindow.TotalSeconds:0} s from one address; retry later.",
                statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context.HttpContext);
        };
        options.AddPolicy(Public, context => RateLimitPartition.GetFixedWindowLimiter(
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = api.PublicRateLimit, Window = api.PublicRateWindow, QueueLimit = 0 }));
    }
}

/// <summary>API settings (configuration section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    /// <summary>Requests one client address may make to a public endpoint per <see cref="PublicRateWindow"/>.</summary>
    public int PublicRateLimit { get; set; } = 20;

    public TimeSpan PublicRateWindow { get; set; } = TimeSpan.FromSeconds(10);
}
