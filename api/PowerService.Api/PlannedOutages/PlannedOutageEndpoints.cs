using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Live;
using PowerService.Api.Security;
using PowerService.Grains;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Api.PlannedOutages;

/// <summary>Planned outages over HTTP (先算后停), for dispatchers: a dry run answers the impact, a plan the policy refuses
/// is a 409 that carries the impact and the reasons, an accepted plan is a 201. A customer may list the plans that
/// cut their own supply, and nothing else.</summary>
public static class PlannedOutageEndpoints
{
    public static IEndpointRouteBuilder MapPlannedOutageEndpoints(this IEndpointRouteBuilder routes)
    {
        var outages = routes.MapGroup("/api/planned-outages").RequireAuthorization().RequireRateLimiting(ApiRateLimits.Customer).WithTags("Planned outages");

        outages.MapPost("/", async (PlanOutageBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            if (body is null)
            {
                throw new InvalidFieldException("body", "A JSON body is required.");
            }
            var actor = Caller.From(user).Actor;
            var requestId = RequestFields.OptionalId(body.RequestId, "requestId");
            var id = RequestFields.OptionalId(body.Id, "id") ?? (requestId is null ? NewIds.Random("PO-") : NewIds.For("PO-", actor, requestId));
            var request = new PlannedOutageRequest(
                RequestFields.Required<PlannedOutageKind>(body.Kind, "kind"),
                RequestFields.OptionalId(body.FeederId, "feederId"),
                body.TransformerAreaIds is null ? null : [.. body.TransformerAreaIds.Select((area, i) => RequestFields.RequiredId(area, $"transformerAreaIds[{i}]"))],
                body.PlannedStart ?? throw new InvalidFieldException("plannedStart", "plannedStart is required."),
                body.PlannedEnd ?? throw new InvalidFieldException("plannedEnd", "plannedEnd is required."),
                RequestFields.Required(body.Reason, "reason", 500, multiline: true),
                actor,
                RequestFields.Optional(body.OverrideReason, "overrideReason", 500, multiline: true),
                requestId);
            var dryRun = body.DryRun ?? false;
            var plan = dryRun
                ? await grains.GetGrain<IPlannedOutageGrain>(id).Plan(request, dryRun: true)
                : await grains.GetGrain<IPlannedOutageCalendarGrain>(IPlannedOutageCalendarGrain.Key).Plan(id, request, dryRun: false);
            if (plan.DryRun)
            {
                return Results.Ok(plan);
            }
            if (!plan.Acceptable)
            {
                return Results.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "Refused by the planned outage policy",
                    detail: string.Join(" ", plan.Refusals.Select(r => r.Message)),
                    extensions: new Dictionary<string, object?> { ["refusals"] = plan.Refusals, ["warnings"] = plan.Warnings, ["impact"] = plan.Impact });
            }
            return Results.Created($"/api/planned-outages/{Uri.EscapeDataString(id)}", plan);
        }).WithName("PlanOutage").Produces<PlannedOutagePlan>(StatusCodes.Status201Created).Produces<PlannedOutagePlan>().RequireAuthorization(Roles.Dispatcher);

        outages.MapGet("/", async (
            string? status, string? feederId, string? transformerAreaId, string? from, string? to, int? skip, int? take, string? continuationToken,
            ClaimsPrincipal user, IGrainFactory grains, Silo silo) =>
        {
            var upcoming = status switch
            {
                null or "upcoming" => true,
                "finished" => false,
                _ => throw new InvalidFieldException("status", $"status '{status}' is not one of upcoming, finished."),
            };
            var query = new PlannedOutageQuery(
                upcoming, RequestFields.OptionalId(feederId, "feederId"), RequestFields.OptionalId(transformerAreaId, "transformerAreaId"),
                RequestFields.Moment(from, "from"), RequestFields.Moment(to, "to"), skip ?? 0, take ?? 100,
                ContinuationToken: RequestFields.Optional(continuationToken, ListPosition.Field, 512));
            var caller = Caller.From(user);
            var customer = caller.Role == Roles.Customer ? await caller.OwnCustomerAsync(grains) : null;
            if (customer is not null)
            {
                // A customer sees the plans that cut their own supply, and of each what their notice tells them: when
                // and why, not who else is cut or who planned it.
                query = query with { FeederId = null, TransformerAreaId = customer.TransformerAreaId };
            }
            else if (query.FeederId is { } feeder && await grains.GetGrain<IFeederGrain>(feeder).GetProfile() is { } profile)
            {
                // Plans named by the feeder's transformer areas are work on the feeder too.
                query = query with { FeederAreaIds = profile.TransformerAreaIds };
            }
            var calendar = grains.GetGrain<IPlannedOutageCalendarGrain>(IPlannedOutageCalendarGrain.Key);
            var page = await calendar.List(query);
            var next = query.ContinuationToken is null && query.Skip + page.Items.Count < page.Total ? query.Skip + page.Items.Count : (int?)null;
            if (customer is null)
            {
                return Results.Ok(new PlannedOutageListResponse(page.Total, page.Items, next, page.ContinuationToken));
            }
            IReadOnlyList<PlannedOutageSummary> items = page.Items;
            if (upcoming && query.Skip == 0 && query.ContinuationToken is null)
            {
                // A plan called off is news until its time has passed ("your supply stays on"): it vanished from the
                // customer's list on a reload, while the hub had told it live.
                var now = silo.TimeProvider.GetUtcNow();
                var finished = await calendar.List(query with { Upcoming = false, Take = 100, ContinuationToken = null });
                items = [.. finished.Items.Where(p => p.Status == PlannedOutageStatus.Cancelled && p.PlannedEnd > now), .. items];
            }
            return Results.Ok(new PlannedOutageNoticeListResponse(items.Count, [.. items.Select(PlannedOutageNotice.Of)], next, page.ContinuationToken));
        }).WithName("ListPlannedOutages").RequireAuthorization(policy => policy.RequireRole(Roles.Dispatcher, Roles.Customer))
            // A customer's page holds notices (PlannedOutageNoticeListResponse: when and why of each plan); the schema is the staff's.
            .Produces<PlannedOutageListResponse>();

        outages.MapGet("/{id}", async (string id, IGrainFactory grains) =>
            Results.Ok(await Existing(grains, id).Get() ?? throw new EntityNotFoundException("Planned outage", id)))
            .WithName("GetPlannedOutage").Produces<PlannedOutageView>().RequireAuthorization(Roles.Dispatcher);

        outages.MapGet("/{id}/history", async (string id, IGrainFactory grains) => Results.Ok(await Existing(grains, id).GetHistory()))
            .WithName("GetPlannedOutageHistory").Produces<IReadOnlyList<JournalEntry>>().RequireAuthorization(Roles.Dispatcher);

        outages.MapPost("/{id}/start", async (string id, ActualTimeBody? body, ClaimsPrincipal user, IGrainFactory grains, Silo silo) =>
            Results.Ok(await AtField(Existing(grains, id).Start(body?.At ?? silo.TimeProvider.GetUtcNow(), Caller.From(user).Actor))))
            .WithName("StartPlannedOutage").Produces<PlannedOutageView>().RequireAuthorization(Roles.Dispatcher);

        outages.MapPost("/{id}/complete", async (string id, ActualTimeBody? body, ClaimsPrincipal user, IGrainFactory grains, Silo silo) =>
            Results.Ok(await AtField(Existing(grains, id).Complete(body?.At ?? silo.TimeProvider.GetUtcNow(), Caller.From(user).Actor))))
            .WithName("CompletePlannedOutage").Produces<PlannedOutageView>().RequireAuthorization(Roles.Dispatcher);

        outages.MapPost("/{id}/cancel", async (string id, CancelOutageBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var reason = RequestFields.Required(body?.Reason, "reason", 500, multiline: true);
            return Results.Ok(await Existing(grains, id).Cancel(Caller.From(user).Actor, reason));
        }).WithName("CancelPlannedOutage").Produces<PlannedOutageView>().RequireAuthorization(Roles.Dispatcher);

        return routes;
    }

    /// <summary>The grain names the time it refuses as what it is (actualStart, actualEnd); the request's field is <c>at</c>.</summary>
    private static async Task<PlannedOutageView> AtField(Task<PlannedOutageView> move)
    {
        try
        {
            return await move;
        }
        catch (InvalidFieldException refused) when (refused.Field is "actualStart" or "actualEnd")
        {
            throw new InvalidFieldException("at", refused.Message);
        }
    }

    /// <summary>A well-formed id; the grain answers 404 for one never planned.</summary>
    private static IPlannedOutageGrain Existing(IGrainFactory grains, string id) =>
        grains.GetGrain<IPlannedOutageGrain>(PlainIds.Lookup("Planned outage", id));
}

/// <summary>A plan: a feeder or transformer areas, never both; <c>dryRun</c> answers the impact and stores nothing.</summary>
public sealed record PlanOutageBody(
    string? Id,
    [property: NamesOf(typeof(PlannedOutageKind))] string? Kind,
    string? FeederId,
    IReadOnlyList<string?>? TransformerAreaIds,
    DateTimeOffset? PlannedStart,
    DateTimeOffset? PlannedEnd,
    string? Reason,
    string? OverrideReason,
    bool? DryRun,
    string? RequestId = null);

/// <summary>One page of the planned-outage calendar; <c>continuationToken</c> (where the next page starts, unshifted by
/// plans added or ended meanwhile) and <c>nextSkip</c> are null on the last page.</summary>
public sealed record PlannedOutageListResponse(int Total, IReadOnlyList<PlannedOutageSummary> Items, int? NextSkip, string? ContinuationToken);

/// <summary>A customer's page of the plans that cut their supply, paged as <see cref="PlannedOutageListResponse"/>.</summary>
public sealed record PlannedOutageNoticeListResponse(int Total, IReadOnlyList<PlannedOutageNotice> Items, int? NextSkip, string? ContinuationToken);

/// <summary>When it actually happened; now when omitted.</summary>
public sealed record ActualTimeBody(DateTimeOffset? At);

public sealed record CancelOutageBody(string? Reason);
