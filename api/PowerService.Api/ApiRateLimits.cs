using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using PowerService.Api.Security;

namespace PowerService.Api;

/// <summary>Rate limits (built-in ASP.NET Core limiter). Public endpoints (the token endpoint) are limited per client
/// address, so one client guessing passwords cannot starve the others. Customer-facing endpoints (work orders,
/// bookings, crew slots) are limited per customer when a customer token is given and per address when no token is
/// (before the 401), so one app or script cannot flood the silo; dispatchers, crews and operators are not limited there.
/// A refused request gets 429 with Retry-After and problem details.</summary>
public static class ApiRateLimits
{
    public const string Public = "public";
    public const string Customer = "customer";

    internal static void Configure(RateLimiterOptions options, ApiOptions api)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = async (context, cancellationToken) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : api.PublicRateWindow;
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await Results.Problem(
                title: "Too many requests",
                detail: $"This client made too many requests; retry in {seconds} s.",
                statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context.HttpContext);
        };
        options.AddPolicy(Public, context => RateLimitPartition.GetFixedWindowLimiter(
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = api.PublicRateLimit, Window = api.PublicRateWindow, QueueLimit = 0 }));
        options.AddPolicy(Customer, context =>
        {
            var user = context.User;
            if (user.Identity?.IsAuthenticated == true && !user.IsInRole(Roles.Customer))
            {
                return RateLimitPartition.GetNoLimiter("staff");
            }
            var key = user.Identity?.IsAuthenticated == true
                ? "customer:" + user.FindFirstValue(Roles.CustomerIdClaim)
                : "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = api.CustomerRateLimit,
                Window = api.CustomerRateWindow,
                QueueLimit = 0,
            });
        });
    }
}

/// <summary>API settings (configuration section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    /// <summary>Requests one client address may make to a public endpoint per <see cref="PublicRateWindow"/>.</summary>
    public int PublicRateLimit { get; set; } = 20;

    public TimeSpan PublicRateWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests one customer (or one address without a token) may make to the customer-facing endpoints per
    /// <see cref="CustomerRateWindow"/>; the app polls nothing (progress comes over the customer hub), so this is generous.</summary>
    public int CustomerRateLimit { get; set; } = 60;

    public TimeSpan CustomerRateWindow { get; set; } = TimeSpan.FromSeconds(10);
}
