using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace PowerService.Api.Live;

/// <summary>How the API answered, counted by kind since the silo started: what the monitor shows an operator who would
/// otherwise see only the grains' refusals (a head-end whose token expired, answered 401 on every batch, looked like a
/// quiet night; 404s, the API's own 400s, 429s and 503s were invisible). One interlocked increment per request.</summary>
public sealed class HttpOutcomes
{
    private long _requests, _rejected, _unauthorized, _throttled, _serverErrors;

    public HttpCounts Read() => new(
        Interlocked.Read(ref _requests), Interlocked.Read(ref _rejected), Interlocked.Read(ref _unauthorized),
        Interlocked.Read(ref _throttled), Interlocked.Read(ref _serverErrors));

    internal void Count(int status)
    {
        Interlocked.Increment(ref _requests);
        switch (status)
        {
            case StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden:
                Interlocked.Increment(ref _unauthorized);
                break;
            case StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable:
                Interlocked.Increment(ref _throttled);
                break;
            case >= 500:
                Interlocked.Increment(ref _serverErrors);
                break;
            case >= 400:
                Interlocked.Increment(ref _rejected);
                break;
        }
    }

    /// <summary>Counts every answer, including those written by the middleware before it (rate limits, 413s, the
    /// exception handler's problem details).</summary>
    internal static IApplicationBuilder UseHttpOutcomes(IApplicationBuilder app)
    {
        var outcomes = app.ApplicationServices.GetRequiredService<HttpOutcomes>();
        return app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            finally
            {
                outcomes.Count(context.Response.StatusCode);
            }
        });
    }
}

/// <summary>Answers since the silo started: all, refused as bad or unknown (other 4xx), refused as not signed in or not
/// allowed (401, 403), held back (429, 503: rate limits, back-pressure, a store that refuses writes), failed (other 5xx).</summary>
public sealed record HttpCounts(long Requests, long Rejected, long Unauthorized, long Throttled, long ServerErrors);
