using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Errors;
using PowerService.Api.Live;
using PowerService.Api.Security;
using PowerService.Grains;
using PowerService.Grains.Outages;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Api.Outages;

/// <summary>Outages over HTTP. Dispatchers, operators and crews see every outage; a customer sees only the outages
/// that cut their own supply (others answer 404), and of each only what concerns them. Dispatchers, and the crew on an outage's repair, set the estimated
/// restoration, confirm and restore it.</summary>
public static class OutageEndpoints
{
    private const int DefaultTake = 100;

    public static IEndpointRouteBuilder MapOutageEndpoints(this IEndpointRouteBuilder routes)
    {
        var outages = routes.MapGroup("/api/outages").RequireAuthorization().RequireRateLimiting(ApiRateLimits.Customer).WithTags("Outages");

        outages.MapGet("/", async (bool? active, string? region, int? skip, int? take, string? continuationToken, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            var query = new OutageQuery(
                active ?? true, RequestFields.OptionalRegion(region, asked: true), Skip: skip ?? 0, Take: take ?? DefaultTake,
                ContinuationToken: RequestFields.Optional(continuationToken, ListPosition.Field, 512));
            if (caller.Role == Roles.Customer)
            {
                var customer = await caller.OwnCustomerAsync(grains);
                query = query with { TransformerAreaId = customer.TransformerAreaId, MeterId = customer.MeterId };
            }
            var page = await grains.GetGrain<IOutageBoardGrain>("all").List(query);
            var next = query.ContinuationToken is null && query.Skip + page.Items.Count < page.Total ? query.Skip + page.Items.Count : (int?)null;
            if (caller.Role == Roles.Customer)
            {
                // A customer's list holds what GET /{id} and the hub tell them (one or two outages at most), not the
                // board's rows: those name the other meters cut, the feeder and the merged calls.
                var views = await Task.WhenAll(page.Items.Select(o => grains.GetGrain<IOutageGrain>(o.Id).Get()));
                return Results.Ok(new OutageNoticeListResponse(page.Total, [.. views.OfType<OutageView>().Select(OutageNotice.Of)], next, page.ContinuationToken));
            }
            return Results.Ok(new OutageListResponse(page.Total, page.Items, next, page.ContinuationToken));
        })
            // A customer's page holds notices (OutageNoticeListResponse: their own outages, without other meters or
            // counts); the schema is the staff's board rows.
            .WithName("ListOutages").Produces<OutageListResponse>();

        outages.MapGet("/{id}", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            var outage = await VisibleOutageAsync(grains, id, caller);
            // A customer is told what the hub tells them: not who else is out, nor which crew works on it. A crew other
            // than the outage's own is not told the important customers' names and phones (as an order's contact is
            // the crew working it's alone): any crew of any region read them.
            if (caller.Role == Roles.Customer)
            {
                var notice = OutageNotice.Of(outage);
                if (outage.State == OutageState.Restored)
                {
                    // Back for the area is not back for this customer when their meter is still dark: the tracker said
                    // "Power restored" to them until their nested outage opened, minutes later.
                    var customer = await caller.OwnCustomerAsync(grains);
                    notice = notice with { SupplyStillOff = await grains.GetGrain<IAreaPowerGrain>(customer.TransformerAreaId).IsDark(customer.MeterId) };
                }
                return Results.Ok(notice);
            }
            return caller.Role switch
            {
                Roles.Crew when caller.CrewId != outage.CrewId => Results.Ok(outage with { ImportantCustomers = [] }),
                _ => Results.Ok(outage),
            };
        }).WithName("GetOutage").Produces<OutageView>();

        // Who restored it, who changed its estimate and when: the journal as written, for the staff who answer for the
        // reliability report (a customer follows the outage itself).
        outages.MapGet("/{id}/history", async (string id, IGrainFactory grains) =>
            Results.Ok(await grains.GetGrain<IOutageGrain>(PlainIds.Lookup("Outage", id)).GetHistory()))
            .RequireAuthorization(policy => policy.RequireRole(Roles.Dispatcher, Roles.Operator))
            .WithName("GetOutageHistory").Produces<IReadOnlyList<JournalEntry>>();

        outages.MapPost("/{id}/etr", async (string id, EtrBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            var etr = body?.EstimatedRestorationAt ?? throw new InvalidFieldException("estimatedRestorationAt", "estimatedRestorationAt is required.");
            var cause = RequestFields.Optional(body.Cause, "cause", 500, multiline: true);
            return await MayChangeAsync(grains, id, caller)
                ? Results.Ok(await grains.GetGrain<IOutageGrain>(id).SetEstimatedRestoration(etr, caller.Actor, cause))
                : NotTheirs;
        }).WithName("SetOutageEstimatedRestoration").Produces<OutageView>();

        outages.MapPost("/{id}/confirm", async (string id, CauseBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            var cause = RequestFields.Optional(body?.Cause, "cause", 500, multiline: true);
            return await MayChangeAsync(grains, id, caller)
                ? Results.Ok(await grains.GetGrain<IOutageGrain>(id).Confirm(caller.Actor, cause))
                : NotTheirs;
        }).WithName("ConfirmOutage").Produces<OutageView>();

        // `at` (optional): when supply actually came back, if earlier than now (the crew closed the switch at 01:50 and the
        // dispatcher records it at 01:55): the customers' minutes in the indicators end then, not at the click.
        outages.MapPost("/{id}/restore", async (string id, RestoreBody? body, ClaimsPrincipal user, IGrainFactory grains, Silo silo) =>
        {
            var caller = Caller.From(user);
            if (!await MayChangeAsync(grains, id, caller))
            {
                return NotTheirs;
            }
            var outage = grains.GetGrain<IOutageGrain>(id);
            if (body?.At is not { } at)
            {
                return Results.Ok(await outage.Restore(caller.Actor));
            }
            var now = silo.TimeProvider.GetUtcNow();
            var startedAt = (await outage.Get())!.StartedAt;
            if (at > now)
            {
                throw new InvalidFieldException("at", $"at is in the future; supply came back at or before now ({now:O}).");
            }
            if (at < startedAt)
            {
                throw new InvalidFieldException("at", $"at is before the outage began ({startedAt:O}).");
            }
            return Results.Ok(await outage.RestoreAsOf(caller.Actor, at));
        }).WithName("RestoreOutage").Produces<OutageView>();

        return routes;
    }

    private static async Task<OutageView> VisibleOutageAsync(IGrainFactory grains, string id, Caller caller)
    {
        var outage = await grains.GetGrain<IOutageGrain>(PlainIds.Lookup("Outage", id)).Get() ?? throw new EntityNotFoundException("Outage", id);
        if (caller.Role == Roles.Customer)
        {
            var customer = await caller.OwnCustomerAsync(grains);
            var affects = outage.TransformerAreaIds.Contains(customer.TransformerAreaId)
                && (outage.MeterIds is null || outage.MeterIds.Contains(customer.MeterId));
            return affects ? outage : throw new EntityNotFoundException("Outage", id);
        }
        return outage;
    }

    /// <summary>A dispatcher may change any outage; a crew only the one whose repair it has taken (404 when the caller
    /// may not even see it, false for 403 otherwise).</summary>
    private static readonly IResult NotTheirs = Forbidden.Because("An outage is changed by dispatchers and by the crew assigned to its repair.");

    private static async Task<bool> MayChangeAsync(IGrainFactory grains, string id, Caller caller)
    {
        var outage = await VisibleOutageAsync(grains, id, caller);
        return caller.IsDispatcher || (caller.Role == Roles.Crew && caller.CrewId is not null && caller.CrewId == outage.CrewId);
    }
}

/// <summary>A page of outages, newest first; <c>continuationToken</c> (where the next page starts, unshifted by outages
/// opened or restored meanwhile) and <c>nextSkip</c> are null on the last page.</summary>
public sealed record OutageListResponse(int Total, IReadOnlyList<OutageSummary> Items, int? NextSkip, string? ContinuationToken);

/// <summary>A customer's page of the outages cutting their supply, paged as <see cref="OutageListResponse"/>.</summary>
public sealed record OutageNoticeListResponse(int Total, IReadOnlyList<OutageNotice> Items, int? NextSkip, string? ContinuationToken);

public sealed record EtrBody(DateTimeOffset? EstimatedRestorationAt, string? Cause);

public sealed record CauseBody(string? Cause);

/// <summary>A restore's body, all optional: <paramref name="At"/>, when supply came back (if before now); <paramref name="RequestId"/>,
/// the pages' id of a send they may repeat (a restore done already is answered as it is, so it needs no other use).</summary>
public sealed record RestoreBody(DateTimeOffset? At, string? RequestId);
