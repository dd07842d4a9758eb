using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Errors;
using PowerService.Api.Security;
using PowerService.Grains;
using PowerService.Grains.Crews;
using PowerService.Grains.Regions;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Api.WorkOrders;

/// <summary>Work orders over HTTP. Dispatchers see and change every order; a crew only the orders assigned to it; a
/// customer only their own. Someone else's order answers 404, as if it did not exist, so ids cannot be probed.</summary>
public static class WorkOrderEndpoints
{
    private static readonly Dictionary<string, WorkOrderAction> Actions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["reserve"] = WorkOrderAction.Reserve,
        ["accept"] = WorkOrderAction.Accept,
        ["reject"] = WorkOrderAction.Reject,
        ["en-route"] = WorkOrderAction.StartTravel,
        ["arrive"] = WorkOrderAction.Arrive,
        ["resolve"] = WorkOrderAction.Resolve,
        ["cancel"] = WorkOrderAction.Cancel,
        ["merge"] = WorkOrderAction.Merge,
        ["suspend"] = WorkOrderAction.Suspend,
        ["resume"] = WorkOrderAction.Resume,
        ["close"] = WorkOrderAction.Close,
        ["reopen"] = WorkOrderAction.Reopen,
    };

    /// <summary>The actions a transition names (the OpenAPI document lists them).</summary>
    internal static IEnumerable<string> ActionNames => Actions.Keys;

    private static readonly HashSet<WorkOrderAction> CrewActions =
        [WorkOrderAction.Accept, WorkOrderAction.Reject, WorkOrderAction.StartTravel, WorkOrderAction.Arrive, WorkOrderAction.Resolve];

    /// <summary>A customer may withdraw their own request, or pause and resume it (not at home, asks to wait).</summary>
    private static readonly HashSet<WorkOrderAction> CustomerActions = [WorkOrderAction.Cancel, WorkOrderAction.Suspend, WorkOrderAction.Resume];

    /// <summary>What a customer's own report may not say: the service gives its id (a chosen one could take an id the
    /// service itself uses, such as an outage's repair order <c>WO-{outageId}</c>), sets its priority (a customer
    /// choosing Emergency would jump every queue and shorten the promise), and takes the supply — region, transformer
    /// area, place, area class — from the customer's record (a customer naming another area would send a crew there,
    /// or merge the call into that area's outage). Refused with a 400 naming the field, never silently replaced.</summary>
    private static void RefuseServiceFields(CreateWorkOrderBody body)
    {
        (object? Value, string Field, string Reason)[] serviceFields =
        [
            (body.Id, "id", "A customer's report gets its id from the service; leave id out."),
            (body.Priority, "priority", "The priority of a customer's report is set by the service; leave priority out."),
            (body.Region, "region", "A customer's report is for their own supply: the region comes from the customer's record."),
            (body.TransformerAreaId, "transformerAreaId", "A customer's report is for their own supply: the transformer area comes from the customer's record."),
            (body.Location, "location", "A customer's report is for their own supply: the place comes from the customer's record."),
            (body.AreaClass, "areaClass", "A customer's report is for their own supply: the area class comes from the customer's record."),
        ];
        foreach (var (value, field, reason) in serviceFields)
        {
            if (value is not null)
            {
                throw new InvalidFieldException(field, reason);
            }
        }
        if (RequestFields.Optional<IntakeChannel>(body.Channel, "channel") is { } channel && !channel.IsSelfService())
        {
            throw new InvalidFieldException("channel", $"A customer reports through {string.Join(", ", IntakeChannels.SelfService)}; {channel} is not one of them.");
        }
    }

    public static IEndpointRouteBuilder MapWorkOrderEndpoints(this IEndpointRouteBuilder routes)
    {
        var orders = routes.MapGroup("/api/work-orders").RequireAuthorization().RequireRateLimiting(ApiRateLimits.Customer).WithTags("Work orders");

        orders.MapPost("/", async (CreateWorkOrderBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            if (!caller.IsDispatcher && caller.Role != Roles.Customer)
            {
                return Forbidden.Because("Orders are created by dispatchers and, for themselves, by customers.");
            }
            if (body is null)
            {
                throw new InvalidFieldException("body", "A JSON body is required.");
            }
            var customerId = RequestFields.OptionalId(body.CustomerId, "customerId");
            if (caller.Role == Roles.Customer)
            {
                // A customer reports for themself; naming another customer is refused rather than silently replaced.
                if (customerId is not null && customerId != caller.CustomerId)
                {
                    throw new InvalidFieldException("customerId", "A customer can only report for their own customer id.");
                }
                customerId = caller.CustomerId;
                RefuseServiceFields(body);
            }
            var requestId = RequestFields.OptionalId(body.RequestId, "requestId");
            var id = RequestFields.OptionalId(body.Id, "id") ?? (requestId is null ? NewIds.Random("WO-") : NewIds.For("WO-", caller.Actor, requestId));
            if (id.StartsWith(OutageRepairPrefix, StringComparison.OrdinalIgnoreCase))
            {
                // The outages' own repair orders (WO-OUT-{outage}): a chosen one would become an outage's repair.
                throw new InvalidFieldException("id", $"ids starting {OutageRepairPrefix} are the outages' repair orders; choose another.");
            }
            var order = new NewWorkOrder(
                RequestFields.Required<WorkOrderKind>(body.Kind, "kind"),
                RequestFields.Optional<IntakeChannel>(body.Channel, "channel") ?? (caller.Role == Roles.Customer ? IntakeChannel.App : IntakeChannel.Hotline95598),
                caller.Actor,
                RequestFields.Required(body.Description, "description", 2000, multiline: true),
                RequestFields.Optional<WorkOrderPriority>(body.Priority, "priority") ?? WorkOrderPriority.Normal,
                customerId,
                RequestFields.OptionalId(body.TransformerAreaId, "transformerAreaId"),
                RequestFields.OptionalRegion(body.Region),
                RequestFields.Location(body.Location, "location"),
                RequestFields.Optional<AreaClass>(body.AreaClass, "areaClass"),
                RequestFields.Optional<ConnectionCategory>(body.ConnectionCategory, "connectionCategory"),
                RequestId: requestId);
            var view = await grains.GetGrain<IWorkOrderGrain>(id).Create(order);
            return Results.Created($"/api/work-orders/{Uri.EscapeDataString(id)}", view);
        }).WithName("CreateWorkOrder").Produces<WorkOrderView>(StatusCodes.Status201Created);

        orders.MapGet("/", async (string? state, string? kind, string? region, string? limit, string? continuationToken, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            var query = new WorkOrderQuery(
                RequestFields.Optional<WorkOrderState>(state, "state"),
                RequestFields.Optional<WorkOrderKind>(kind, "kind"),
                RequestFields.OptionalRegion(region, asked: true),
                Limit: Limit(limit),
                ContinuationToken: RequestFields.Optional(continuationToken, "continuationToken", 512));
            query.Check();
            return Results.Ok(await ListAsync(grains, caller, query));
        }).WithName("ListWorkOrders").Produces<WorkOrderPage>();

        orders.MapGet("/{id}", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
            Results.Ok(await VisibleOrderAsync(grains, id, Caller.From(user)))).WithName("GetWorkOrder").Produces<WorkOrderView>();

        orders.MapGet("/{id}/contact", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            var caller = Caller.From(user);
            var order = await VisibleOrderAsync(grains, id, caller);
            // The crew working the order reaches its customer (nobody home, the gate locked, the way in); once its work
            // is done, or before it is offered, the phone number is none of the crew's business.
            if (caller.Role == Roles.Crew && order.State is not (WorkOrderState.Reserved or WorkOrderState.Dispatched or WorkOrderState.Accepted or WorkOrderState.EnRoute or WorkOrderState.OnSite))
            {
                throw new DomainConflictException($"Work order '{id}' is {order.State}: its customer's contact is for the crew while it works the order.");
            }
            var customer = order.CustomerId is { } customerId ? await grains.GetGrain<ICustomerGrain>(customerId).GetProfile() : null;
            return customer is null
                ? throw new EntityNotFoundException("Customer of work order", id)
                : Results.Ok(new CustomerContact(customer.Id, customer.Name, customer.Phone, customer.Location));
        })
            .RequireAuthorization(policy => policy.RequireRole(Roles.Dispatcher, Roles.Crew))
            .WithName("GetWorkOrderContact").Produces<CustomerContact>();

        orders.MapGet("/{id}/history", async (string id, ClaimsPrincipal user, IGrainFactory grains) =>
        {
            await VisibleOrderAsync(grains, id, Caller.From(user));
            return Results.Ok(await grains.GetGrain<IWorkOrderGrain>(id).GetHistory());
        })
            // The journal as written: staff names, internal notes, the crew's position at each step. A customer follows
            // the order itself (GET /{id}, the customer hub), not its journal.
            .RequireAuthorization(policy => policy.RequireRole(Roles.Dispatcher, Roles.Operator, Roles.Crew))
            .WithName("GetWorkOrderHistory").Produces<IReadOnlyList<WorkOrderEvent>>();

        orders.MapPost("/{id}/transitions", async (string id, TransitionBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
            await TransitionAsync(grains, id, body, Caller.From(user)) switch
            {
                { Refusal: { } refusal } => Forbidden.Because(refusal, "action"),
                var done => Results.Ok(done.Order),
            }).WithName("TransitionWorkOrder").Produces<WorkOrderView>();

        orders.MapPost("/{id}/assign", async (string id, AssignBody? body, IGrainFactory grains, ClaimsPrincipal user) =>
        {
            var caller = Caller.From(user);
            var crewId = RequestFields.RequiredId(body?.CrewId, "crewId");
            var note = RequestFields.Optional(body!.Note, "note", 2000, multiline: true);
            var requestId = RequestFields.OptionalId(body.RequestId, "requestId");
            if (body.Version is < 1)
            {
                throw new InvalidFieldException("version", "version is the order's version as last seen (1 or more).");
            }
            await VisibleOrderAsync(grains, id, caller);
            // A dispatch through Apply, as from /transitions, so a resent assignment is recognised by its request id.
            return Results.Ok(await grains.GetGrain<IWorkOrderGrain>(id).Apply(
                new WorkOrderCommand(WorkOrderAction.Dispatch, caller.Actor, Note: note, CrewId: crewId, RequestId: requestId, Version: body.Version, Force: body.Force == true)));
        }).RequireAuthorization(Roles.Dispatcher).WithName("AssignWorkOrder").Produces<WorkOrderView>();

        orders.MapPost("/{id}/callback", async (string id, CallbackBody? body, IGrainFactory grains, ClaimsPrincipal user) =>
        {
            var caller = Caller.From(user);
            var outcome = RequestFields.Required<CallbackOutcome>(body?.Outcome, "outcome");
            if (body!.Version is < 1)
            {
                throw new InvalidFieldException("version", "version is the order's version as last seen (1 or more).");
            }
            await VisibleOrderAsync(grains, id, caller);
            return Results.Ok(await grains.GetGrain<IWorkOrderGrain>(id).RecordCallback(new CallbackAttempt(
                outcome, caller.Actor, RequestFields.Optional(body!.Note, "note", 2000, multiline: true), body.Version, RequestFields.OptionalId(body.RequestId, "requestId"))));
        }).RequireAuthorization(Roles.Dispatcher).WithName("RecordWorkOrderCallback").Produces<WorkOrderView>();

        return routes;
    }

    private const string OutageRepairPrefix = "WO-OUT-";

    /// <summary>Dispatchers and operators list any region (one is required); a crew lists the orders its crew holds
    /// (the crew grain's own list, whatever their region); a customer lists their own orders in their region's index.</summary>
    private static async Task<WorkOrderPage> ListAsync(IGrainFactory grains, Caller caller, WorkOrderQuery query)
    {
        switch (caller.Role)
        {
            case Roles.Crew:
                var crew = await grains.GetGrain<IFieldCrewGrain>(caller.CrewId!).Get();
                var held = crew is null ? [] : crew.CurrentOrders.Concat(crew.QueuedOrders);
                var views = await Task.WhenAll(held.Select(id => grains.GetGrain<IWorkOrderGrain>(id).Get()));
                var own = views.OfType<WorkOrderView>().Select(WorkOrderSummary.Of).Where(o => o.CrewId == caller.CrewId);
                return query.Page(own.OrderBy(WorkOrderSortKey.Of, WorkOrderSortKey.Order));
            case Roles.Customer:
                var profile = await grains.GetGrain<ICustomerGrain>(caller.CustomerId!).GetProfile();
                return profile is null
                    ? new WorkOrderPage([], null, 0)
                    : await grains.GetGrain<ICustomerIntakeGrain>(caller.CustomerId!).List(query with { CustomerId = caller.CustomerId, Region = null }, profile.Region);
            default:
                var region = query.Region ?? throw new InvalidFieldException("region", "region is required: orders are listed per region.");
                return await grains.GetGrain<IOpenOrdersGrain>(region).List(query);
        }
    }

    private static int Limit(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return WorkOrderQuery.DefaultLimit;
        }
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit)
            ? limit
            : throw new InvalidFieldException("limit", $"limit is a whole number from 1 to {WorkOrderQuery.MaxLimit}.");
    }

    /// <summary>One transition as <paramref name="caller"/> asks it, over HTTP or from the PDA's hub: the order, or why
    /// this caller may not (a 403's detail). A bad field, an order the caller may not see and a transition the order's
    /// state forbids throw as everywhere else.</summary>
    internal static async Task<(WorkOrderView? Order, string? Refusal)> TransitionAsync(IGrainFactory grains, string id, TransitionBody? body, Caller caller)
    {
        var actionText = RequestFields.Required(body?.Action, "action", 32);
        if (!Actions.TryGetValue(actionText, out var action))
        {
            throw new InvalidFieldException("action", $"action '{actionText}' is not one of {string.Join(", ", Actions.Keys)}.");
        }
        var order = await VisibleOrderAsync(grains, id, caller);
        var allowed = caller.IsDispatcher
            || (caller.Role == Roles.Crew && CrewActions.Contains(action))
            || (caller.Role == Roles.Customer && CustomerActions.Contains(action));
        if (!allowed)
        {
            var whose = caller.Role != Roles.Crew && CrewActions.Contains(action) ? "the crew on the order and dispatchers" : "dispatchers";
            if (caller.Role is not (Roles.Crew or Roles.Customer))
            {
                return (null, $"An {caller.Role} watches orders and changes none; {actionText} is for {whose}.");
            }
            var own = caller.Role == Roles.Crew ? CrewActions : CustomerActions;
            return (null, $"A {caller.Role} may {string.Join(", ", Actions.Where(a => own.Contains(a.Value)).Select(a => a.Key))}; {actionText} is for {whose}.");
        }
        var command = new WorkOrderCommand(
            action,
            caller.Actor,
            RequestFields.Location(body!.Location, "location"),
            RequestFields.Optional(body.Note, "note", 2000, multiline: true),
            caller.Role == Roles.Crew ? caller.CrewId : order.CrewId,
            RequestFields.Optional(body.TargetId, "targetId", 64),
            RequestFields.OptionalId(body.RequestId, "requestId"),
            Version: body.Version is < 1 ? throw new InvalidFieldException("version", "version is the order's version as last seen (1 or more).") : body.Version);
        return (await grains.GetGrain<IWorkOrderGrain>(id).Apply(command), null);
    }

    /// <summary>The order if the caller may see it; otherwise, and for an unknown id, 404.</summary>
    internal static async Task<WorkOrderView> VisibleOrderAsync(IGrainFactory grains, string id, Caller caller)
    {
        var view = await grains.GetGrain<IWorkOrderGrain>(PlainIds.Lookup("Work order", id)).Get();
        var visible = view is not null && (caller.IsDispatcher || caller.IsOperator
            || (caller.Role == Roles.Crew && view.CrewId is not null && view.CrewId == caller.CrewId)
            || (caller.Role == Roles.Customer && view.CustomerId is not null && view.CustomerId == caller.CustomerId));
        return visible ? view! : throw new EntityNotFoundException("Work order", id);
    }
}

/// <summary>Who the crew on an order calls: the customer's name, phone and place.</summary>
public sealed record CustomerContact(string CustomerId, string Name, string? Phone, GeoPoint Location);

/// <param name="RequestId">Optional, chosen by the sender per report (a UUID): without an <paramref name="Id"/> the
/// order's id is derived from it, so the same report sent again (its answer was lost) reaches the same order and is
/// answered with it instead of creating a second one.</param>
public sealed record CreateWorkOrderBody(
    string? Id,
    [property: NamesOf(typeof(WorkOrderKind))] string? Kind,
    [property: NamesOf(typeof(IntakeChannel))] string? Channel,
    [property: NamesOf(typeof(WorkOrderPriority))] string? Priority,
    string? Description,
    string? CustomerId,
    string? TransformerAreaId,
    string? Region,
    LocationBody? Location,
    [property: NamesOf(typeof(AreaClass))] string? AreaClass,
    [property: NamesOf(typeof(ConnectionCategory))] string? ConnectionCategory,
    string? RequestId = null);

/// <param name="RequestId">Optional, chosen by the sender per action (a UUID): the same request sent again (its answer
/// was lost) is answered with the order as it is, not applied twice.</param>
/// <param name="Version">Optional: the order's version the sender decided on; changed since, the transition is a 409
/// (a dispatcher's cancel silently undid another dispatcher's assignment made a moment before).</param>
public sealed record TransitionBody([property: NamesOf(typeof(WorkOrderEndpoints), nameof(WorkOrderEndpoints.ActionNames))] string? Action, string? Note, LocationBody? Location, string? TargetId, string? RequestId = null, int? Version = null);

/// <param name="RequestId">Optional, as for <see cref="TransitionBody"/>: the same assignment sent again is answered with
/// the order as it is instead of a 409 "already Dispatched with crew …".</param>
/// <param name="Version">Optional: the order's version the dispatcher decided on (the console sends its row's); if the
/// order changed since, the assignment is a 409 saying how it is now, instead of silently replacing another
/// dispatcher's.</param>
/// <param name="Force">True gives the order to a crew off shift or without the work's skill all the same (a 409 without it).</param>
public sealed record AssignBody(string? CrewId, string? Note, string? RequestId = null, int? Version = null, bool? Force = null);

/// <param name="RequestId">Optional, as for <see cref="TransitionBody"/>: the attempt sent again is answered with the order
/// as it is, not counted as another round.</param>
public sealed record CallbackBody([property: NamesOf(typeof(CallbackOutcome))] string? Outcome, string? Note, int? Version = null, string? RequestId = null);
