using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Security;
using PowerService.Grains;
using PowerService.Grains.Crews;
using PowerService.Grains.Dispatch;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Api.Crews;

/// <summary>Field crews over HTTP. Dispatchers register crews and see them all; a crew token reads and updates only its
/// own crew (location and status from the PDA); another crew answers 404.</summary>
public static class CrewEndpoints
{
    public static IEndpointRouteBuilder MapCrewEndpoints(this IEndpointRouteBuilder routes)
    {
        var crews = routes.MapGroup("/api/crews").RequireAuthorization().RequireRateLimiting(ApiRateLimits.Customer).WithTags("Crews");

        crews.MapPost("/", async (RegisterCrewBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var id = RequestFields.RequiredId(body?.Id, "id");
            var profile = new CrewProfile(
                RequestFields.Required(body!.Name, "name"),
                RequestFields.RequiredRegion(body.Region),
                [.. (body.Skills ?? []).Select((skill, i) => RequestFields.Required<CrewSkill>(skill, $"skills[{i}]"))],
                body.Capacity ?? throw new InvalidFieldException("capacity", "capacity is required."),
                RequestFields.Location(body.Home, "home") ?? throw new InvalidFieldException("home", "home is required."),
                [.. (body.Shifts ?? []).Select((shift, i) => new Shift(
                    RequestFields.Element(shift, $"shifts[{i}]").Start ?? throw new InvalidFieldException($"shifts[{i}].start", "start is required."),
                    shift!.End ?? throw new InvalidFieldException($"shifts[{i}].end", "end is required.")))]);
            var existed = await grains.GetGrain<IFieldCrewGrain>(id).Get() is not null;
            var view = await grains.GetGrain<IFieldCrewGrain>(id).Register(profile, Caller.From(user).Actor);
            return existed ? Results.Ok(view) : Results.Created($"/api/crews/{Uri.EscapeDataString(id)}", view);
        }).RequireAuthorization(Roles.Dispatcher).WithName("RegisterCrew").Produces<CrewView>(StatusCodes.Status201Created).Produces<CrewView>();

        crews.MapGet("/", async (string? region, IGrainFactory grains) =>
        {
            var name = RequestFields.RequiredRegion(region, asked: true);
            var ids = await grains.GetGrain<IDispatchGrain>(name).GetCrewIds();
            var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<IFieldCrewGrain>(id).Get()));
            return Results.Ok(views.OfType<CrewView>().ToList());
        }).RequireAuthorization(Roles.Operator).WithName("ListCrews").Produces<IReadOnlyList<CrewView>>();

        crews.MapGet("/{id}", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
            Results.Ok(await VisibleCrewAsync(grains, id, Caller.From(user)))).WithName("GetCrew").Produces<CrewView>();

        // The PDA's whole list in one request: it read the list and then each card's order (N + 1 requests), and a crew
        // holding 30 orders or more hit its own rate limit on a reload and was left with cards "Loading details…".
        crews.MapGet("/{id}/orders", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var crew = await VisibleCrewAsync(grains, id, Caller.From(user));
            var views = await Task.WhenAll(crew.CurrentOrders.Concat(crew.QueuedOrders).Select(order => grains.GetGrain<IWorkOrderGrain>(order).Get()));
            return Results.Ok(views.OfType<WorkOrderView>().Where(order => order.CrewId == crew.Id).ToList());
        }).WithName("ListCrewOrders").Produces<IReadOnlyList<WorkOrderView>>();

        crews.MapPost("/{id}/location", async (string id, LocationBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
            Results.Ok(await ReportLocationAsync(grains, id, body, Caller.From(user)))).RequireAuthorization(CrewChanges).WithName("ReportCrewLocation").Produces<CrewView>();

        crews.MapPost("/{id}/status", async (string id, CrewStatusBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
            Results.Ok(await SetStatusAsync(grains, id, body, Caller.From(user)))).RequireAuthorization(CrewChanges).WithName("SetCrewStatus").Produces<CrewView>();

        crews.MapPost("/{id}/slots", async (string id, SlotsBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            await ChangeableCrewAsync(grains, id, caller);
            var slots = (body?.Slots ?? throw new InvalidFieldException("slots", "slots are required.")).Select((slot, i) => new TimeSlot(
                RequestFields.Element(slot, $"slots[{i}]").Start ?? throw new InvalidFieldException($"slots[{i}].start", "start is required."),
                slot!.End ?? throw new InvalidFieldException($"slots[{i}].end", "end is required."),
                slot.Capacity ?? throw new InvalidFieldException($"slots[{i}].capacity", "capacity is required."))).ToList();
            return Results.Ok(await grains.GetGrain<IFieldCrewGrain>(id).PublishSlots(slots, caller.Actor));
        }).RequireAuthorization(CrewChanges).WithName("PublishCrewSlots").Produces<IReadOnlyList<SlotView>>();

        crews.MapGet("/{id}/slots", async (string id, string? from, string? to, ClaimsPrincipal user, IGrainFactory grains, Silo silo) =>
        {
            var caller = Caller.From(user);
            var (since, until) = (RequestFields.Moment(from, "from"), RequestFields.Moment(to, "to"));
            // Customers see free capacity to book a visit; crews only their own.
            if (caller.Role != Roles.Customer)
            {
                await VisibleCrewAsync(grains, id, caller);
            }
            else if (await grains.GetGrain<IFieldCrewGrain>(PlainIds.Lookup("Crew", id)).Get() is null)
            {
                throw new EntityNotFoundException("Crew", id);
            }
            var start = since ?? silo.TimeProvider.GetUtcNow();
            var end = until ?? (start > DateTimeOffset.MaxValue.AddDays(-14) ? DateTimeOffset.MaxValue : start.AddDays(14));
            return Results.Ok(await grains.GetGrain<IFieldCrewGrain>(id).GetSlots(start, end));
        }).WithName("GetCrewSlots").Produces<IReadOnlyList<SlotView>>();

        return routes;
    }

    /// <summary>Who changes a crew: dispatchers, and the crew itself (another crew's id is a 404). An operator or a
    /// customer is told it is not their role (403), not that the crew does not exist.</summary>
    private static void CrewChanges(Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder policy) => policy.RequireRole(Roles.Dispatcher, Roles.Crew);

    private static async Task<CrewView> VisibleCrewAsync(IGrainFactory grains, string id, Caller caller)
    {
        var mayLook = caller.IsDispatcher || caller.IsOperator || (caller.Role == Roles.Crew && caller.CrewId == id);
        var view = mayLook ? await grains.GetGrain<IFieldCrewGrain>(PlainIds.Lookup("Crew", id)).Get() : null;
        return view ?? throw new EntityNotFoundException("Crew", id);
    }

    /// <summary>Where the crew is, from its PDA (over HTTP or the crew hub): a crew reports for itself only.</summary>
    internal static async Task<CrewView> ReportLocationAsync(IGrainFactory grains, string id, LocationBody? body, Caller caller)
    {
        await ChangeableCrewAsync(grains, id, caller);
        var location = RequestFields.Location(body, field: null) ?? throw new InvalidFieldException("latitude", "latitude and longitude are required.");
        return await grains.GetGrain<IFieldCrewGrain>(id).ReportLocation(location, caller.Actor);
    }

    /// <summary>The crew's status, from its PDA (over HTTP or the crew hub) or a dispatcher.</summary>
    internal static async Task<CrewView> SetStatusAsync(IGrainFactory grains, string id, CrewStatusBody? body, Caller caller)
    {
        await ChangeableCrewAsync(grains, id, caller);
        var status = RequestFields.Required<CrewStatus>(body?.Status, "status");
        return await grains.GetGrain<IFieldCrewGrain>(id).SetStatus(status, caller.Actor);
    }

    /// <summary>Only the crew itself or a dispatcher changes a crew.</summary>
    private static async Task ChangeableCrewAsync(IGrainFactory grains, string id, Caller caller)
    {
        if (!caller.IsDispatcher && !(caller.Role == Roles.Crew && caller.CrewId == id))
        {
            throw new EntityNotFoundException("Crew", id);
        }
        await VisibleCrewAsync(grains, id, caller);
    }
}

public sealed record RegisterCrewBody(string? Id, string? Name, string? Region, [property: NamesOf(typeof(CrewSkill))] IReadOnlyList<string>? Skills, int? Capacity, LocationBody? Home, IReadOnlyList<PeriodBody>? Shifts);

public sealed record PeriodBody(DateTimeOffset? Start, DateTimeOffset? End);

public sealed record CrewStatusBody([property: NamesOf(typeof(CrewStatus))] string? Status);

public sealed record SlotsBody(IReadOnlyList<SlotBody>? Slots);

public sealed record SlotBody(DateTimeOffset? Start, DateTimeOffset? End, int? Capacity);
