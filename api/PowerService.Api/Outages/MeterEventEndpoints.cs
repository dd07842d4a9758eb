using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Security;
using PowerService.Grains;
using PowerService.Grains.Ami;

namespace PowerService.Api.Outages;

/// <summary>The AMI head-end posts batches of meter events. The answer comes once the batch is applied by the
/// transformer areas (200 with what was taken); a full ingestion queue answers 503 with Retry-After and takes nothing.</summary>
public static class MeterEventEndpoints
{
    /// <summary>10,000 events of ~150 bytes of JSON each, with room to spare.</summary>
    private const long MaxBodyBytes = 4 * 1024 * 1024;

    public static IEndpointRouteBuilder MapMeterEventEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/meter-events", async (MeterEventsBody? body, MeterEventIngestion ingestion) =>
        {
            var events = body?.Events ?? throw new InvalidFieldException("events", "events is required.");
            var parsed = new MeterEvent[events.Count];
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i] ?? throw new InvalidFieldException($"events[{i}]", "An event is required.");
                parsed[i] = new MeterEvent(
                    e.MeterId!, e.EventId!, RequestFields.Required<MeterEventType>(e.Type, $"events[{i}].type"),
                    e.At ?? throw new InvalidFieldException($"events[{i}].at", "at is required."), e.Kwh, e.Voltage, e.LoadKw);
            }
            return Results.Ok(await ingestion.SubmitAsync(parsed));
        })
        .RequireAuthorization(Roles.Ami)
        .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
        .WithTags("Meter events")
        .WithName("PostMeterEvents").Produces<IngestionReceipt>();
        return routes;
    }
}

public sealed record MeterEventsBody(IReadOnlyList<MeterEventBody?>? Events);

public sealed record MeterEventBody(string? MeterId, string? EventId, [property: NamesOf(typeof(MeterEventType))] string? Type, DateTimeOffset? At, double? Kwh, double? Voltage, double? LoadKw);
