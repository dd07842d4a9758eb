using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PowerService.Grains;
using PowerService.Runtime;

namespace PowerService.Api.Errors;

/// <summary>Turns what grains throw into problem-details answers: a bad field is 400 naming it, an unknown entity 404,
/// a rule that forbids the change 409 (nothing was changed in each case), an unreachable store 503. Anything else is
/// a 500 without internals.</summary>
internal sealed partial class DomainExceptionHandler(IProblemDetailsService problems, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            // Minimal APIs throw this for a body that is not valid JSON or too large (RouteHandlerOptions.ThrowOnBadRequest).
            BadHttpRequestException bad when UnboundParameter(bad.Message) is { } unbound => Problem(
                StatusCodes.Status400BadRequest, "Invalid field", unbound.Detail, unbound.Field),
            BadHttpRequestException { InnerException: JsonException body } => BodyProblem(httpContext, body),
            BadHttpRequestException bad => Problem(
                bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request too large" : "Malformed request", bad.Message),
            _ => DomainProblem(exception),
        };
        if (problem is null)
        {
            return false;
        }
        httpContext.Response.StatusCode = problem.Status!.Value;
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            var retryAfter = exception is ServiceBusyException { RetryAfter: var wait } ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 5;
            httpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>What a grain or the runtime threw, as the answer it means, wherever the request came from (HTTP here,
    /// hub methods through <c>DomainErrorHubFilter</c>); null for anything else.</summary>
    internal static ProblemDetails? DomainProblem(Exception exception) => exception switch
    {
        InvalidFieldException invalid => Problem(StatusCodes.Status400BadRequest, "Invalid field", invalid.Message, invalid.Field),
        EntityNotFoundException missing => Problem(StatusCodes.Status404NotFound, $"{missing.Entity} not found", missing.Message),
        DomainConflictException conflict => Problem(StatusCodes.Status409Conflict, "Conflict", conflict.Message, code: conflict.Code),
        StorageUnavailableException => Problem(StatusCodes.Status503ServiceUnavailable, "Store unavailable", "The store did not answer; nothing was changed. Retry shortly."),
        ServiceBusyException busy => Problem(StatusCodes.Status503ServiceUnavailable, "Busy", busy.Message),
        GrainCallTimeoutException => Problem(StatusCodes.Status503ServiceUnavailable, "Busy", "The request timed out inside the silo. Retry shortly."),
        _ => null,
    };

    /// <summary>A JSON body that does not read as the endpoint's request: the field and what it takes.</summary>
    private ProblemDetails BodyProblem(HttpContext httpContext, JsonException error)
    {
        // The handler runs with the endpoint cleared; the feature keeps the one that threw.
        var requestType = (httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? httpContext.GetEndpoint())?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        var (field, detail) = JsonBodyProblem.Describe(error, requestType, json.Value.SerializerOptions);
        return Problem(StatusCodes.Status400BadRequest, field is null ? "Malformed request" : "Invalid field", detail, field);
    }

    /// <summary>A query or route value that does not parse as its parameter's type (Minimal APIs say
    /// <c>Failed to bind parameter "Nullable&lt;bool&gt; active" from "maybe".</c>): the field and what it takes.</summary>
    private static (string Field, string Detail)? UnboundParameter(string message)
    {
        var match = UnboundPattern().Match(message);
        if (!match.Success)
        {
            return null;
        }
        var type = match.Groups["type"].Value;
        var takes = (type.StartsWith("Nullable<", StringComparison.Ordinal) ? type[9..^1] : type) switch
        {
            "bool" => "true or false",
            "int" or "long" or "short" => "a whole number",
            "double" or "decimal" or "float" => "a number",
            "DateTimeOffset" or "DateTime" => "a date and time (ISO 8601, e.g. 2026-12-03T08:00:00+08:00)",
            "DateOnly" => "a date (e.g. 2026-12-03)",
            "Guid" => "a GUID",
            var other => $"a {other}",
        };
        var field = match.Groups["name"].Value;
        var value = match.Groups["value"].Value;
        return (field, $"{field} '{(value.Length > 64 ? value[..64] + "…" : value)}' is not valid: it takes {takes}.");
    }

    [System.Text.RegularExpressions.GeneratedRegex("""^Failed to bind parameter "(?<type>\S+) (?<name>\w+)" from "(?<value>.*)"\.$""")]
    private static partial System.Text.RegularExpressions.Regex UnboundPattern();

    /// <summary>The <c>code</c> of a 400 naming a field.</summary>
    internal const string InvalidFieldCode = "invalid-field";

    /// <summary>The <c>code</c> of a 404.</summary>
    internal const string NotFoundCode = "not-found";

    /// <param name="code">What a client branches on: a conflict's <see cref="ConflictCodes"/> code; a bad field is
    /// <c>invalid-field</c>, an unknown entity <c>not-found</c>.</param>
    private static ProblemDetails Problem(int status, string title, string detail, string? field = null, string? code = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (field is not null)
        {
            problem.Extensions["field"] = field;
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [detail] };
        }
        if ((code ?? (field is not null ? InvalidFieldCode : status == StatusCodes.Status404NotFound ? NotFoundCode : null)) is { } named)
        {
            problem.Extensions["code"] = named;
        }
        return problem;
    }
}
