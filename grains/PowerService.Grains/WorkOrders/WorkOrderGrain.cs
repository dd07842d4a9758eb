using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using PowerService.Grains.Crews;
using PowerService.Grains.Dispatch;
using PowerService.Grains.Indicators;
using PowerService.Grains.Outages;
using PowerService.Grains.Regions;
using PowerService.Grains.Sla;
using PowerService.Grains.Topology;
using PowerService.Runtime;
using PowerService.Runtime.Storage;
using static PowerService.Grains.WorkOrders.WorkOrderAction;

namespace PowerService.Grains.WorkOrders;

/// <summary>One work order. Each call checks the move against <see cref="WorkOrderTransitions"/>, builds the next
/// record and the events that explain it, asks dispatch for a crew when the order goes back to it, and stores record
/// and events in one write; crews and live counts hear of it after the write. One durable reminder wakes the order
/// for its next timed moment (SLA warning/breach/escalation, offer lapse, booked dispatch, callback retry).</summary>
internal sealed partial class WorkOrderGrain(
    IPersistentState<WorkOrderRecord> state,
    IJournal journal,
    SlaPolicy sla,
    DispatchOptions dispatchOptions,
    BookingOptions bookingOptions,
    CallbackOptions callbackOptions,
    ILogger<WorkOrderGrain> logger) : Grain, IWorkOrderGrain, IRemindable
{
    private const string ReminderName = "next";
    private const string SystemActor = "system";
    /// <summary>The actor the dispatch grain assigns as; its own assignments need no withdrawal.</summary>
    private const string DispatchActor = "dispatch";
    private const int MaxDescriptionLength = 2000;
    private const int MaxHistory = 100_000;

    /// <summary>Holds ("not at home until…") a customer may put on one order from the app; the service line can always.</summary>
    internal const int MaxCustomerHolds = 5;

    // camelCase names and enum names, not numbers: the journal is read by people and by the indicators.
    private static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The booking of the visit this order last held, if this activation held one.</summary>
    private string? _heldVisit;

    /// <summary>The order or outage a person's merge of this order is folding it into, while that merge is in its turn.</summary>
    private string? _mergingInto;

    private WorkOrderRecord Order => state.State;

    private string Id => GetPrimaryKeyString();

    public async Task<WorkOrderView> Create(NewWorkOrder order)
    {
        var request = RequestIds.Key(order.Actor, order.RequestId);
        if (Order.Exists)
        {
            // The same report sent again, under its request id or the sender's own id (a hotline system's ticket
            // number): the sender lost the answer. However long ago: an order's later requests push its creation's id
            // out of those it remembers. Another report under a taken request id or order id is a conflict, never
            // answered with this order (the sender would take its report as recorded).
            if (SameCreation(order))
            {
                return Order.ToView();
            }
            throw request is null
                ? new DomainConflictException($"Work order '{Id}' already exists.", ConflictCodes.AlreadyExists)
                : new DomainConflictException(
                    $"Request id '{order.RequestId}' was used for another report (work order '{Id}'); a new report takes a new request id.", ConflictCodes.RequestIdReused);
        }
        var now = TimeProvider.GetUtcNow();
        var created = await Classify(await Validate(order, now), order);
        // A call inside a known outage folds into it whatever else the customer has open; only other orders look.
        var repeats = await TakeCustomersRequest(created);
        try // whatever happens now, the intake is told the request is settled (stored, or refused by a failure)
        {
            var change = new Change(Order, now) { Request = request };
            change.Next = ReachMilestone(change, created, SlaMilestone.Receipt);
            Record(change, WorkOrderEvents.Created, order.Actor, null, new
            {
                created.Kind,
                created.Channel,
                created.Priority,
                created.Region,
                created.GridId,
                created.CustomerId,
                created.TransformerAreaId,
                created.AreaClass,
                created.ConnectionCategory,
                created.Description,
                created.Classification,
                created.OutageId,
                Clocks = change.Next.Clocks.Select(c => new { c.Name, c.DueAt }),
            });
            if (created.Classification == FaultCallVerdict.InOutage)
            {
                Withdrawn(change, new WorkOrderCommand(Merge, SystemActor, Note: "inside a known outage", TargetId: created.OutageId), WorkOrderState.Merged);
            }
            else if (repeats is { } earlier)
            {
                Withdrawn(change, new WorkOrderCommand(Merge, SystemActor, Note: "the customer called again: their fault is already being repaired", TargetId: earlier), WorkOrderState.Merged);
            }
            else
            {
                await AskDispatch(change);
            }
            await Commit(change);
        }
        finally
        {
            if (repeats is null && TakesCustomersRequest(created))
            {
                await GrainFactory.GetGrain<ICustomerIntakeGrain>(created.CustomerId!).Settled(Id); // one-way: once queued
            }
        }
        return Order.ToView();
    }

    public Task<WorkOrderView?> Get() => Task.FromResult(Order.Exists ? Order.ToView() : Unknown());

    /// <summary>An order never created holds nothing: its activation goes unless another call comes first.</summary>
    private WorkOrderView? Unknown()
    {
        DeactivateIfUnused();
        return null;
    }

    public async Task CrewCannotAnswer(string crewId, string actor, string reason)
    {
        var booked = Order.State == WorkOrderState.Reserved && Order.BookingId is not null;
        if (!Order.Exists || Order.State != WorkOrderState.Dispatched && !booked || Order.CrewId != crewId)
        {
            return; // answered, reassigned or withdrawn meanwhile
        }
        var change = new Change(Order, TimeProvider.GetUtcNow());
        if (Order.BookingId is not null)
        {
            // A booked visit is the customer's appointment with this crew: it stays on the crew's list, as its visits
            // booked for later days do (handed back, a crew's break released it); dispatchers are told, to call the crew
            // or reassign it.
            VisitUnanswered(change, actor, reason, change.Now);
        }
        else
        {
            await GiveUpOffer(change, WorkOrderEvents.OfferExpired, actor, null, reason, change.Now);
        }
        await Commit(change);
    }

    public Task OfferedWhileOffShift(string crewId) =>
        Order is { Exists: true, State: WorkOrderState.Dispatched, OfferForced: false } && Order.CrewId == crewId
            ? CrewCannotAnswer(crewId, SystemActor, "the crew went off shift as the order was offered to it")
            : Task.CompletedTask; // answered, moved on, or given knowingly to a crew called in

    public Task CrewSkillsChanged(string crewId, IReadOnlyList<CrewSkill> skills, string actor)
    {
        if (!Order.Exists)
        {
            return Task.CompletedTask;
        }
        var skill = DispatchScoring.SkillForKind(Order.Kind);
        return skills.Contains(skill)
            ? Task.CompletedTask
            : CrewCannotAnswer(crewId, actor, $"the crew no longer has the {skill} skill, which {Order.Kind} work needs");
    }

    public async Task<bool> JoinOutage(string outageId)
    {
        if (!Order.Exists || Order.Kind != WorkOrderKind.FaultRepair || Order.CustomerId is null || Order.OutageId is not null
            || !WorkOrderTransitions.TryNext(Order.State, Merge, out var to))
        {
            return false;
        }
        var change = new Change(Order, TimeProvider.GetUtcNow());
        Withdrawn(change, new WorkOrderCommand(Merge, SystemActor, Note: "an outage was found after the call", TargetId: outageId), to);
        change.Next = change.Next with { OutageId = outageId, Classification = FaultCallVerdict.InOutage };
        await Commit(change);
        return true;
    }

    public async Task RaisePriority(WorkOrderPriority priority, string actor, string reason)
    {
        if (!Order.Exists || Order.Priority >= priority || WorkOrderTransitions.IsTerminal(Order.State))
        {
            return;
        }
        var change = new Change(Order, TimeProvider.GetUtcNow());
        change.Next = Order with { Priority = priority };
        Record(change, WorkOrderEvents.PriorityRaised, actor, null, new { From = Order.Priority, To = priority, Reason = reason });
        if (Order.QueuedInDispatch)
        {
            await AskDispatch(change); // waiting for a crew: asked again at its new rank (a crew free now takes it)
        }
        await Commit(change);
    }

    public async Task<WorkOrderView> Apply(WorkOrderCommand command)
    {
        var order = RequireOrder();
        RequireActor(command.Actor);
        // The action is part of the key: an id sent again with another action is another request (an integrator reusing
        // ids had "arrive" answered as the "accept" sent under the same id, and the arrival silently not recorded).
        var request = RequestIds.Key(command.Actor, command.RequestId) is { } key ? $"{key} {command.Action}" : null;
        if (request is not null && order.RecentRequests.Contains(request))
        {
            return order.ToView(); // applied before: the sender lost the answer and sent it again
        }
        if (command.Location is { IsValid: false })
        {
            throw new InvalidFieldException("location", "The location is not a valid latitude/longitude.");
        }
        if (command.Location is { IsFix: false })
        {
            throw new InvalidFieldException("location", "0, 0 is what a GPS without a fix reports: send the action without a location instead.");
        }
        if (command.Action == Reserve && order.BookingId is { } booked && booked == command.TargetId)
        {
            // Confirmed already (a double tap, two devices, a lost answer), whatever the order did since (dispatched for
            // its slot, accepted): the same answer, nothing changes.
            return order.ToView();
        }
        if (command.Version is { } seen && !order.StillAsSeen(seen))
        {
            var now = order.CrewId is { } crew ? $"{order.State} with crew '{crew}'" : order.State.ToString();
            throw new DomainConflictException($"Work order '{Id}' changed since you saw it (version {seen}, now {order.Version}: {now}); look at it again before you {command.Action}.", ConflictCodes.ChangedSinceSeen);
        }
        if (command.Action == WorkOrderAction.Dispatch)
        {
            return await Assign(command.CrewId ?? throw new InvalidFieldException("crewId", "Dispatch names the crew."), command.Actor, command.Note, command.Location, request, command.Force);
        }
        if (command.Action == Reserve && !WorkOrderTransitions.TryNext(order.State, Reserve, out _) && command.TargetId is { } unconfirmable
            && unconfirmable == _heldVisit && BookingId.CrewOf(unconfirmable) is { } holdCrew)
        {
            // Its hold can never be confirmed now (a crew was sent meanwhile): let it go for other customers at once,
            // not when it lapses.
            _heldVisit = null;
            try
            {
                await GrainFactory.GetGrain<IFieldCrewGrain>(holdCrew).Release(unconfirmable, command.Actor);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                LogHoldNotReleased(logger, error, Id, unconfirmable); // it lapses at its hold time; the 409 says why
            }
        }
        var to = Move(order, command.Action);
        if (WorkOrderTransitions.CrewActions.Contains(command.Action))
        {
            RequireAssignedCrew(order, command);
        }
        var change = new Change(order, TimeProvider.GetUtcNow()) { Request = request };
        switch (command.Action)
        {
            case Reserve:
                await ReserveSlot(change, command);
                break;
            case Accept:
                change.Next = ReachMilestone(change, order with { State = to, OfferExpiresAt = null, UnansweredAlertAt = null, VisitUnansweredAt = null }, SlaMilestone.Accept);
                RecordCrewStep(change, WorkOrderEvents.Accepted, command, new { order.CrewId, command.Note, Clocks = StoppedClocks(change) });
                change.TellCrew(order.CrewId!, to, order.CrewId);
                break;
            case Reject:
            case ExpireOffer:
                await GiveUpOffer(change, command.Action == Reject ? WorkOrderEvents.Rejected : WorkOrderEvents.OfferExpired, command.Actor, command.Location, command.Note, change.Now);
                break;
            case StartTravel:
                change.Next = order with { State = to };
                RecordCrewStep(change, WorkOrderEvents.EnRoute, command, new { order.CrewId, command.Note });
                change.TellCrew(order.CrewId!, to, order.CrewId);
                break;
            case Arrive:
                var distanceKm = await ArrivalDistanceKm(order, command, change.Now);
                change.Next = ReachMilestone(change, order with { State = to }, SlaMilestone.Arrival);
                RecordCrewStep(change, WorkOrderEvents.Arrived, command, new { order.CrewId, command.Note, Clocks = StoppedClocks(change), DistanceKm = distanceKm });
                change.TellCrew(order.CrewId!, to, order.CrewId);
                break;
            case Resolve:
                Resolved(change, command);
                break;
            case Close:
                // A callback promise closed without a call was not kept: not counted as met (cancelled), and one already
                // breached stays late. The other clocks are met by the work done.
                change.Next = order with
                {
                    State = to,
                    Clocks = [.. order.Clocks.Select(c => c.IsFinished ? c : c.Name == SlaPolicy.Callback && !c.Breached ? c.Cancel(change.Now) : c.Stop(change.Now))],
                };
                Record(change, WorkOrderEvents.Closed, command.Actor, command.Location, new { Reason = "closed by dispatcher", command.Note });
                break;
            case Reopen:
                await Reopened(change, command.Actor, command.Location, command.Note);
                break;
            case Cancel:
                if (Actors.IsCustomer(command.Actor) && order.State == WorkOrderState.OnSite)
                {
                    // Withdrawn from the app now, the repair the crew is making would never be recorded nor called back.
                    throw new DomainConflictException($"Work order '{Id}': the crew is on site, so it can no longer be cancelled from the app; tell the crew, or call the service line.");
                }
                Withdrawn(change, command, to);
                break;
            case Merge when command.Actor != SystemActor:
                return await MergedByPerson(change, command, to);
            case Merge:
                Withdrawn(change, command, to);
                break;
            case Suspend:
                if (order.SuspendedAt is not null)
                {
                    throw new DomainConflictException($"Work order '{Id}' is already suspended.");
                }
                var byCustomer = Actors.IsCustomer(command.Actor);
                if (byCustomer && order.CustomerHolds >= MaxCustomerHolds)
                {
                    // Each hold and resume is two journal entries and a push to every console of the region: an app (or a
                    // script) flipping it grew one order's journal by 0.5 MB in 40 s.
                    throw new DomainConflictException($"Work order '{Id}' was put on hold from the app {order.CustomerHolds} times already; to change the visit again, call the 95598 service line.", ConflictCodes.LimitReached);
                }
                if (byCustomer && order.MergedOrders.Count > 0)
                {
                    // Other customers' requests were merged into this one as duplicates: one customer's "not home until
                    // 15:00" paused the repair their neighbours wait on too, with every clock of it.
                    throw new DomainConflictException($"Work order '{Id}' is also the repair of {order.MergedOrders.Count} other customer request(s) merged into it, so it cannot be put on hold from the app; to change the visit, call the 95598 service line.");
                }
                change.Next = order with
                {
                    SuspendedAt = change.Now, Clocks = [.. order.Clocks.Select(c => c.Pause(change.Now))], QueuedInDispatch = false,
                    CustomerHolds = order.CustomerHolds + (byCustomer ? 1 : 0),
                };
                // The customer is not home until 15:00: no crew is sent meanwhile (a storm's batch drove one there ahead of
                // orders whose clocks run). Back in dispatch when the hold ends.
                change.WithdrawFromDispatch = order.QueuedInDispatch;
                Record(change, WorkOrderEvents.Suspended, command.Actor, command.Location, new { command.Note });
                if (order is { State: WorkOrderState.Dispatched, BookingId: null, CrewId: { } offered })
                {
                    // Nor is a crew left to accept an offer made before the hold and drive to a house nobody is at (the
                    // PDA showed "on hold since …" on an offer it could still accept). Offered again when the hold ends.
                    change.TellCrew(offered, WorkOrderState.Created, null);
                    change.Next = change.Next with { State = WorkOrderState.Created, CrewId = null, OfferExpiresAt = null, UnansweredAlertAt = null, OfferForced = false };
                    Record(change, WorkOrderEvents.OfferWithdrawn, command.Actor, command.Location, new { CrewId = offered, Reason = "the customer put the order on hold" });
                }
                break;
            case Resume:
                if (order.SuspendedAt is not { } suspendedAt)
                {
                    throw new DomainConflictException($"Work order '{Id}' is not suspended.");
                }
                change.Next = order with { SuspendedAt = null, Clocks = [.. order.Clocks.Select(c => c.Resume(change.Now, sla))] };
                Record(change, WorkOrderEvents.Resumed, command.Actor, command.Location, new { command.Note, SuspendedFor = change.Now - suspendedAt });
                if (WorkOrderTransitions.WaitsForCrew(order.State) && !order.QueuedInDispatch && order.CrewId is null && order.BookingId is null)
                {
                    await AskDispatch(change);
                }
                break;
            default:
                // ScheduleCallback is taken by Resolve in the same turn; Resolved is never a stored state.
                throw Illegal(order, command.Action);
        }
        await Commit(change);
        return Order.ToView();
    }

    public async Task Reannounce()
    {
        if (!Order.Exists)
        {
            return;
        }
        var calls = new List<Task>(2) { GrainFactory.GetGrain<IOpenOrdersGrain>(Order.Region).OrderChanged(WorkOrderSummary.Of(Order)) };
        if (Order.CrewId is { } crew)
        {
            calls.Add(GrainFactory.GetGrain<IFieldCrewGrain>(crew).OrderChanged(Id, Order.State, crew));
        }
        if (Order is { State: WorkOrderState.Merged, MergedIntoOrder: true, MergedInto: { } target })
        {
            calls.Add(GrainFactory.GetGrain<IWorkOrderGrain>(target).OrderMergedIn(Id)); // lost with a crash right after the merge
        }
        if (Order.State == WorkOrderState.Cancelled)
        {
            calls.AddRange(Order.MergedOrders.Select(merged => GrainFactory.GetGrain<IWorkOrderGrain>(merged).MergeTargetCancelled(Id, SystemActor)));
        }
        if (Order.State == WorkOrderState.Merged && Order.OutageId is { } outage && Order.MergedInto == outage)
        {
            // The call is the outage's evidence: without it a suspected outage stays unconfirmed and its customers untold.
            calls.Add(GrainFactory.GetGrain<IOutageGrain>(outage).MergedCallRecovered(Id, Order.UpdatedAt));
        }
        await Task.WhenAll(calls);
        if (await OutageFoundSince() is { } found && await JoinOutage(found))
        {
            return; // merged: out of dispatch's backlog with it
        }
        if (Order.QueuedInDispatch)
        {
            var change = new Change(Order, TimeProvider.GetUtcNow());
            await AskDispatch(change);
            await Commit(change);
        }
    }

    /// <summary>For a fault call classified unknown and still open: its area remembers it again (the crash may have
    /// taken the area's memory of it, written behind), and answers the outage opened since, if any, for it to join.</summary>
    private async Task<string?> OutageFoundSince()
    {
        if (Order is not { Kind: WorkOrderKind.FaultRepair, Classification: FaultCallVerdict.Unknown, OutageId: null, CustomerId: { } customerId }
            || !WorkOrderTransitions.TryNext(Order.State, Merge, out _)
            || await GrainFactory.GetGrain<ICustomerGrain>(customerId).GetProfile() is not { } customer)
        {
            return null;
        }
        return await GrainFactory.GetGrain<IAreaPowerGrain>(customer.TransformerAreaId).CallRecovered(customer.MeterId, Id, Order.CreatedAt);
    }

    public Task ConfirmToCrew(string crewId) =>
        Order.Exists && !string.IsNullOrWhiteSpace(crewId)
            ? GrainFactory.GetGrain<IFieldCrewGrain>(crewId).OrderChanged(Id, Order.State, Order.CrewId)
            : Task.CompletedTask;

    public Task ConfirmBookingToCrew(string crewId, string bookingId) =>
        Order.Exists && Order.BookingId == bookingId
            ? Task.CompletedTask
            : GrainFactory.GetGrain<IFieldCrewGrain>(crewId).Release(bookingId, SystemActor);

    public Task<WorkOrderView> Assign(string crewId, string actor, string? note = null) => Assign(crewId, actor, note, null, null, force: false);


    /// <summary>How far from the site the crew is as its arrival is recorded (journaled with the step), from the
    /// position sent with it or, without one, the crew's last reported position if recent; null when neither the site
    /// nor the crew's place is known. A crew's own arrival from farther than <see cref="DispatchOptions.ArrivalRadiusKm"/>
    /// is refused: tapped at the depot, it would stop the arrival promise as met (an arrival 2,000 km away was
    /// accepted). A dispatcher records the arrival when the crew's position is what is wrong.</summary>
    private async Task<double?> ArrivalDistanceKm(WorkOrderRecord order, WorkOrderCommand command, DateTimeOffset now)
    {
        if (!order.Location.IsFix)
        {
            return null;
        }
        var position = command.Location;
        var source = "the position sent with the arrival";
        if (position is null)
        {
            var crew = await GrainFactory.GetGrain<IFieldCrewGrain>(order.CrewId!).Get();
            if (crew is { LocationAt: { } reportedAt } && now - reportedAt <= dispatchOptions.ArrivalPositionAge && crew.Location.IsFix)
            {
                position = crew.Location;
                var minutes = (int)Math.Round((now - reportedAt).TotalMinutes);
                source = minutes == 0 ? "the crew's position reported just now" : $"the crew's position reported {minutes} min ago";
            }
        }
        if (position is not { } place)
        {
            return null;
        }
        var km = place.DistanceKm(order.Location);
        if (km > dispatchOptions.ArrivalRadiusKm && Actors.IsCrew(command.Actor))
        {
            throw new DomainConflictException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Work order '{Id}': {source} is {km:#,0.0} km from the site (at most {dispatchOptions.ArrivalRadiusKm:0.#} km): report the arrival at the site, or ask the dispatcher to record it if the position is wrong."));
        }
        return Math.Round(km, 2);
    }

    public async Task<IReadOnlyList<VisitTime>> VisitTimes(string actor, DateTimeOffset until, int limit)
    {
        var order = RequireOrder();
        RequireActor(actor);
        var from = TimeProvider.GetUtcNow() + (Actors.IsCustomer(actor) ? bookingOptions.DispatchLead : TimeSpan.Zero);
        var skill = DispatchScoring.SkillForKind(order.Kind);
        var crews = await GrainFactory.GetGrain<IDispatchGrain>(order.Region).GetCrewIds();
        var offered = await Task.WhenAll(crews.Select(async id =>
        {
            var crew = GrainFactory.GetGrain<IFieldCrewGrain>(id);
            return await crew.Get() is { } view && view.Profile.Skills.Contains(skill)
                ? (await crew.GetSlots(from, until)).Where(s => s.Start >= from && s.Free > 0).Select(s => (Crew: id, Slot: s))
                : [];
        }));
        return [.. offered.SelectMany(o => o)
            .GroupBy(o => (o.Slot.Start, o.Slot.End))
            .OrderBy(g => g.Key.Start).ThenBy(g => g.Key.End)
            .Take(limit)
            .Select(g =>
            {
                var best = g.OrderByDescending(o => o.Slot.Free).ThenBy(o => o.Crew, StringComparer.Ordinal).First();
                return new VisitTime(g.Key.Start, g.Key.End, best.Crew, g.Sum(o => o.Slot.Free));
            })];
    }

    public async Task<Booking> HoldVisit(string crewId, DateTimeOffset slotStart, string actor)
    {
        var order = RequireOrder();
        RequireActor(actor);
        if (!WorkOrderTransitions.TryNext(order.State, Reserve, out _))
        {
            throw new DomainConflictException(order.State == WorkOrderState.Dispatched && order.BookingId is not null
                ? $"Work order '{Id}': the crew is already sent for the visit booked at {TimeText.Minute(order.SlotStart!.Value)}; it can no longer be moved here. "
                    + (Actors.IsCustomer(actor) ? "Call the 95598 hotline to change it." : "Reassign the order to change its crew.")
                : $"Work order '{Id}' is {order.State}: a visit can be booked only while it waits for a crew, or moved while its booked visit is still ahead.");
        }
        // A customer booking in the app: one account may not hold every slot of a crew (its intake counts its visits).
        var intake = Actors.IsCustomer(actor) && order.CustomerId is { } customer
            ? GrainFactory.GetGrain<ICustomerIntakeGrain>(customer)
            : null;
        if (intake is not null)
        {
            await intake.TakeVisit(Id, order.Region);
        }
        var earlier = _heldVisit;
        Booking booking;
        try
        {
            // Orders call crews, never the other way round, so holding this turn while the crew answers cannot deadlock.
            booking = await GrainFactory.GetGrain<IFieldCrewGrain>(crewId).Hold(
                new BookingRequest(Id, slotStart, actor, DispatchScoring.SkillForKind(order.Kind), ByCustomer: Actors.IsCustomer(actor), Region: order.Region));
            _heldVisit = booking.Id;
        }
        finally
        {
            if (intake is not null)
            {
                await intake.VisitSettled(Id); // held (the order now says so) or not: no longer pending at the intake
            }
        }
        // One visit held per order: a crew moves the order's hold between its own slots; a hold at another crew is
        // released here, once the new one is taken, so one order cannot keep slots at every crew from other customers.
        // Remembered in memory only: after a restart an earlier hold lapses by itself within the hold time.
        // The order's confirmed visit is not such a hold: it stands until a new one is confirmed in its place.
        if (earlier is not null && earlier != Order.BookingId && BookingId.CrewOf(earlier) is { } earlierCrew && earlierCrew != crewId)
        {
            try
            {
                await GrainFactory.GetGrain<IFieldCrewGrain>(earlierCrew).Release(earlier, actor);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                LogHoldNotReleased(logger, error, Id, earlier);
            }
        }
        return booking;
    }

    public async Task<WorkOrderView> RecordCallback(CallbackAttempt attempt)
    {
        var order = RequireOrder();
        RequireActor(attempt.Actor);
        if (!Enum.IsDefined(attempt.Outcome))
        {
            throw new InvalidFieldException("outcome", "The outcome is Satisfied, Dissatisfied or Unreachable.");
        }
        // The outcome is part of the key, as a transition's action is: another outcome under the id is another request.
        var request = RequestIds.Key(attempt.Actor, attempt.RequestId) is { } key ? $"{key} callback {attempt.Outcome}" : null;
        if (request is not null && order.RecentRequests.Contains(request))
        {
            return order.ToView(); // recorded before: the sender lost the answer and sent it again
        }
        if (order.State != WorkOrderState.CallbackPending || order.Callback is not { } callback)
        {
            throw new DomainConflictException($"Work order '{Id}' is {order.State}: a callback is recorded only while it is CallbackPending.");
        }
        if (attempt.Version is { } seen && !order.StillAsSeen(seen))
        {
            var last = order.Callback.LastOutcome is { } outcome ? $" (last callback: {outcome}, attempt {order.Callback.Attempts})" : "";
            throw new DomainConflictException($"Work order '{Id}' changed since you saw it (version {seen}, now {order.Version}){last}; look at it again before you record the callback.", ConflictCodes.ChangedSinceSeen);
        }
        var change = new Change(order, TimeProvider.GetUtcNow()) { Request = request };
        callback = callback with { Attempts = callback.Attempts + 1, LastOutcome = attempt.Outcome, NextAttemptAt = null, RetryAnnounced = false };
        var retry = attempt.Outcome == CallbackOutcome.Unreachable && callback.RetriesUsed < callbackOptions.RetryDelays.Count
            ? change.Now + callbackOptions.RetryDelays[callback.RetriesUsed]
            : (DateTimeOffset?)null;
        if (retry is not null)
        {
            callback = callback with { RetriesUsed = callback.RetriesUsed + 1, NextAttemptAt = retry };
        }
        change.Next = ReachMilestone(change, order with { Callback = callback }, SlaMilestone.CallbackMade);
        Record(change, WorkOrderEvents.CallbackAttempted, attempt.Actor, null, new
        {
            attempt.Outcome,
            Satisfied = attempt.Outcome switch { CallbackOutcome.Satisfied => true, CallbackOutcome.Dissatisfied => false, _ => (bool?)null },
            Attempt = callback.Attempts,
            NextAttemptAt = retry,
            attempt.Note,
            Clocks = StoppedClocks(change),
        });
        switch (attempt.Outcome)
        {
            case CallbackOutcome.Satisfied:
                Closing(change, attempt.Actor, "satisfied");
                break;
            case CallbackOutcome.Dissatisfied:
                await Reopened(change, attempt.Actor, null, attempt.Note);
                break;
            case CallbackOutcome.Unreachable when retry is null:
                Closing(change, attempt.Actor, "unreachable");
                break;
        }
        await Commit(change);
        return Order.ToView();
    }

    public async Task<IReadOnlyList<WorkOrderEvent>> GetHistory()
    {
        RequireOrder();
        var events = await journal.ReadStreamAsync(JournalStreams.Order(Id), 0, MaxHistory);
        return [.. events.Select(e => new WorkOrderEvent(e.Sequence, e.EventType, e.OccurredAt, e.Actor, e.Location, e.PayloadJson))];
    }

    /// <summary>Acts on every moment that fell due, in time order (after a restart several may have), then plans the
    /// next wake-up. SLA events carry the moment they were due, not the moment the reminder fired.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!Order.Exists || reminderName != ReminderName)
        {
            return;
        }
        var change = new Change(Order, TimeProvider.GetUtcNow());
        change.Next = Order with { ReminderDueAt = null };
        while (NextMoment(change.Next) is { } moment && moment.At <= change.Now)
        {
            await Handle(change, moment);
        }
        await Commit(change);
    }

    // ---- the moves ----

    private async Task<WorkOrderView> Assign(string crewId, string actor, string? note, GeoPoint? location, string? request, bool force)
    {
        var order = RequireOrder();
        RequireActor(actor);
        if (string.IsNullOrWhiteSpace(crewId) || !BookingId.IsValidCrewId(crewId))
        {
            throw new InvalidFieldException("crewId", BookingId.CrewIdRule);
        }
        Move(order, WorkOrderAction.Dispatch);
        if (order.CrewId == crewId && order.State is WorkOrderState.Dispatched or WorkOrderState.Accepted or WorkOrderState.EnRoute)
        {
            throw new DomainConflictException($"Work order '{Id}' is already {order.State} with crew '{crewId}'.");
        }
        var byDispatch = actor == DispatchActor;
        if (byDispatch && !order.QueuedInDispatch)
        {
            // Dispatch planned it from its backlog while a dispatcher assigned it, a booking reserved it or it was
            // withdrawn: that decision is stale, and taking it would undo a person's (even a crew's accepted) assignment.
            throw new DomainConflictException($"Work order '{Id}' no longer waits in dispatch's backlog ({order.State}).");
        }
        if (!byDispatch)
        {
            var crew = await GrainFactory.GetGrain<IFieldCrewGrain>(crewId).Get() ?? throw new EntityNotFoundException("Crew", crewId);
            if (!force)
            {
                RequireCrewCanTake(order, crew);
            }
        }
        var change = new Change(order, TimeProvider.GetUtcNow()) { Request = request };
        if (order.BookingId is { } booking && BookingId.CrewOf(booking) != crewId)
        {
            change.ReleaseBooking = booking;
            change.Next = order with { BookingId = null, SlotStart = null, SlotEnd = null, DispatchBookedAt = null };
        }
        else if (order.BookingId is null && _heldVisit is { } held && BookingId.CrewOf(held) != crewId)
        {
            change.ReleaseBooking = held; // a visit held at another crew would keep its slot from other customers
        }
        if (order.BookingId is not null && _heldVisit is { } moving && moving != order.BookingId)
        {
            change.ReleaseHold = moving; // a move the customer had begun: its slot is not kept from others
        }
        // Dispatch's own assignment already left its backlog; anyone else's override must take it out.
        change.WithdrawFromDispatch = !byDispatch;
        Offer(change, crewId, actor, location, note, null, forced: force);
        await Commit(change);
        return Order.ToView();
    }

    /// <summary>A person's assignment goes to a crew that can do the work now: on shift, with the skill the work needs,
    /// unless the dispatcher forces it (called the crew in). An override to an off-shift crew or one without the skill
    /// was accepted without a word, and its offer lapsed unanswered after the accept timeout: five minutes of a 45-minute
    /// arrival promise lost. The dispatcher's call stays
    /// theirs otherwise: a crew at its capacity may be given the order (queued behind its work), and a crew of another
    /// region lent for it.</summary>
    private void RequireCrewCanTake(WorkOrderRecord order, CrewView crew)
    {
        var now = TimeProvider.GetUtcNow();
        if (crew.Status == CrewStatus.OffShift || !DispatchScoring.OnShift(crew.Profile.Shifts, now))
        {
            throw new DomainConflictException($"Crew '{crew.Id}' is off shift: its offer would lapse unanswered. Choose a crew on shift, or force the assignment if the crew was called in.", ConflictCodes.ForceRequired);
        }
        var skill = DispatchScoring.SkillForKind(order.Kind);
        if (!crew.Profile.Skills.Contains(skill))
        {
            throw new DomainConflictException($"Crew '{crew.Id}' has no {skill} skill, which {order.Kind} work needs; force the assignment if the crew can do it all the same.", ConflictCodes.ForceRequired);
        }
    }

    /// <param name="forced">A person gave it to a crew off shift or without the skill knowingly (journaled as such).</param>
    private void Offer(Change change, string crewId, string actor, GeoPoint? location, string? note, DispatchDecision? decision, bool forced = false)
    {
        var order = change.Next;
        var to = Move(order, WorkOrderAction.Dispatch);
        if (order.CrewId is { } previous && previous != crewId)
        {
            change.TellCrew(previous, to, crewId);
        }
        change.TellCrew(crewId, to, crewId);
        // A booked visit is the customer's appointment, which the crew made when it published the slot: its offer does not
        // lapse (a missed tap released the booking 25 minutes before the visit); dispatchers are alerted instead.
        var booked = order.BookingId is { } booking && BookingId.CrewOf(booking) == crewId;
        var answerBy = change.Now + dispatchOptions.AcceptTimeout;
        change.Next = order with
        {
            State = to,
            CrewId = crewId,
            OfferExpiresAt = booked ? null : answerBy,
            UnansweredAlertAt = booked ? answerBy : null,
            OfferForced = forced,
            QueuedInDispatch = false,
            DispatchBookedAt = null,
            CalledOffVisit = null,
        };
        Record(change, WorkOrderEvents.Dispatched, actor, location, new
        {
            CrewId = crewId,
            PreviousCrew = order.CrewId,
            change.Next.OfferExpiresAt,
            change.Next.UnansweredAlertAt,
            decision?.TravelMinutes,
            decision?.Score,
            order.BookingId,
            Note = note,
            Forced = forced ? true : (bool?)null,
        });
    }

    /// <summary>Rejected by the crew or lapsed: the crew is excluded and the order goes back to dispatch. A booked visit
    /// (only its crew's reject gives one up) is called off: its slot is free again, dispatchers are alerted and the order
    /// says the visit needs a new time.</summary>
    private async Task GiveUpOffer(Change change, string eventType, string actor, GeoPoint? location, string? note, DateTimeOffset at)
    {
        var order = change.Next;
        var rejected = eventType == WorkOrderEvents.Rejected;
        var to = Move(order, rejected ? Reject : ExpireOffer);
        var crew = order.CrewId!;
        change.TellCrew(crew, to, null);
        var calledOff = order.Visit is { CalledOff: false } visit ? visit with { CalledOff = true } : null;
        if (order.BookingId is { } booking)
        {
            change.ReleaseBooking = booking;
        }
        change.Next = order with
        {
            State = to,
            CrewId = null,
            OfferExpiresAt = null,
            UnansweredAlertAt = null,
            BookingId = null,
            SlotStart = null,
            SlotEnd = null,
            CalledOffVisit = calledOff,
            ExcludedCrews = rejected ? [.. order.ExcludedCrews, crew] : order.ExcludedCrews,
            LapsedCrews = rejected || order.LapsedCrews.Contains(crew) ? order.LapsedCrews : [.. order.LapsedCrews, crew],
        };
        Record(change, eventType, actor, location, new { CrewId = crew, Note = note }, at);
        if (calledOff is not null)
        {
            Record(change, WorkOrderEvents.VisitCalledOff, actor, location,
                new { CrewId = crew, calledOff.BookingId, SlotStart = calledOff.Start, SlotEnd = calledOff.End, Note = note }, at);
        }
        await AskDispatch(change);
    }

    /// <summary>The booked crew has not accepted its visit: the offer stands, and dispatchers are alerted (once per cause).</summary>
    private void VisitUnanswered(Change change, string actor, string reason, DateTimeOffset at)
    {
        var order = change.Next;
        change.Next = order with { UnansweredAlertAt = null, VisitUnansweredAt = at };
        Record(change, WorkOrderEvents.VisitUnanswered, actor, null, new { order.CrewId, order.BookingId, order.SlotStart, order.SlotEnd, Reason = reason }, at);
    }

    private async Task ReserveSlot(Change change, WorkOrderCommand command)
    {
        var order = change.Next;
        var bookingId = command.TargetId;
        var crewId = bookingId is null ? null : BookingId.CrewOf(bookingId);
        if (crewId is null)
        {
            throw new InvalidFieldException("targetId", "Reserve names the booking id ({crewId}~{number}) in targetId.");
        }
        // Whose the booking is, before confirming it: a refusal changes nothing (it confirmed another order's hold,
        // which then could be neither released nor let expire). A booking's order never changes.
        var crew = GrainFactory.GetGrain<IFieldCrewGrain>(crewId);
        var held = await crew.GetBooking(bookingId!) ?? throw new EntityNotFoundException("Booking", bookingId!);
        if (held.OrderId != Id)
        {
            throw new DomainConflictException($"Booking '{bookingId}' holds a slot for order '{held.OrderId}', not '{Id}'.");
        }
        var booking = await crew.Confirm(bookingId!, command.Actor);
        if (order.BookingId is { } previous)
        {
            // Moved: the visit booked before is released with this change, and its crew, if another, lets the order go.
            change.ReleaseBooking = previous;
            if (order.CrewId is { } previousCrew && previousCrew != booking.CrewId)
            {
                change.TellCrew(previousCrew, WorkOrderState.Reserved, booking.CrewId);
            }
        }
        change.WithdrawFromDispatch = order.QueuedInDispatch;
        change.Next = order with
        {
            State = WorkOrderState.Reserved,
            CrewId = booking.CrewId,
            BookingId = booking.Id,
            SlotStart = booking.SlotStart,
            SlotEnd = booking.SlotEnd,
            CalledOffVisit = null,
            VisitUnansweredAt = null,
            DispatchBookedAt = booking.SlotStart - bookingOptions.DispatchLead,
            QueuedInDispatch = false,
        };
        Record(change, WorkOrderEvents.Reserved, command.Actor, command.Location, new
        {
            BookingId = booking.Id, booking.CrewId, booking.SlotStart, booking.SlotEnd, command.Note,
            PreviousBookingId = order.BookingId, PreviousSlotStart = order.SlotStart,
            // The crew the moved visit left, so its PDAs drop the order.
            PreviousCrew = order.BookingId is not null && order.CrewId != booking.CrewId ? order.CrewId : null,
        });
        // The booked visit is on the crew's list (queued) from now: its PDA shows it and dispatch counts it in its load.
        change.TellCrew(booking.CrewId, WorkOrderState.Reserved, booking.CrewId);
    }

    /// <summary>Resolve schedules the callback in the same turn: Resolved is passed through, CallbackPending is stored.</summary>
    private void Resolved(Change change, WorkOrderCommand command)
    {
        var order = ReachMilestone(change, change.Next with { State = WorkOrderState.Resolved }, SlaMilestone.Resolution);
        change.Next = order;
        RecordCrewStep(change, WorkOrderEvents.Resolved, command, new { order.CrewId, command.Note, Clocks = StoppedClocks(change) });
        var dueAt = change.Now + callbackOptions.DueWithin;
        var callbackClock = SlaClock.Start(SlaPolicy.Callback, SlaBasis.Elapsed, callbackOptions.DueWithin, SlaMilestone.CallbackMade, change.Now, sla, paused: false);
        // The visit is made: a place booked in a slot still ahead (the crew came early) is free again.
        change.ReleaseBooking = order.BookingId;
        change.Next = order with
        {
            State = Move(order, ScheduleCallback),
            SuspendedAt = null,
            Callback = new CallbackRecord(dueAt),
            Clocks = [.. order.Clocks, callbackClock],
            BookingId = null,
            SlotStart = null,
            SlotEnd = null,
            DispatchBookedAt = null,
        };
        Record(change, WorkOrderEvents.CallbackScheduled, SystemActor, null, new { DueAt = dueAt });
        change.TellCrew(order.CrewId!, change.Next.State, order.CrewId);
    }

    private void Closing(Change change, string actor, string reason)
    {
        var order = change.Next;
        change.Next = order with { State = Move(order, Close), Clocks = [.. order.Clocks.Select(c => c.IsFinished ? c : c.Stop(change.Now))] };
        Record(change, WorkOrderEvents.Closed, actor, null, new { Reason = reason, order.Callback?.Attempts });
    }

    /// <summary>Dissatisfied customer: the order goes back to dispatch with its history, and its promises start again.</summary>
    private async Task Reopened(Change change, string actor, GeoPoint? location, string? note)
    {
        var order = change.Next;
        var reopened = order with
        {
            // Merged is final for people; only the cancellation of the order it was merged into reopens it.
            State = order.State == WorkOrderState.Merged ? WorkOrderState.Reopened : Move(order, Reopen),
            MergedInto = null,
            MergedIntoOrder = false,
            CrewId = null,
            OfferExpiresAt = null,
            UnansweredAlertAt = null,
            BookingId = null,
            SlotStart = null,
            SlotEnd = null,
            CalledOffVisit = null,
            // A new visit: every crew may be offered it again, those that turned down the first one included.
            ExcludedCrews = [],
            LapsedCrews = [],
            // A callback not yet made no longer applies: the next resolution schedules a new one.
            Clocks = [.. order.Clocks.Select(c => c.IsFinished ? c : c.Cancel(change.Now))],
        };
        change.Next = ReachMilestone(change, reopened, SlaMilestone.Receipt);
        // A booked visit belongs to the order: reopened, it waits for a new crew and the old slot is free again.
        change.ReleaseBooking = order.BookingId;
        Record(change, WorkOrderEvents.Reopened, actor, location, new { PreviousCrew = order.CrewId, Note = note, Clocks = change.Next.Clocks.Where(c => !c.IsFinished).Select(c => new { c.Name, c.DueAt }) });
        await AskDispatch(change);
    }

    public Task<string?> HeldVisit() => Task.FromResult(Order.Exists && Order.BookingId is null ? _heldVisit : null);

    public Task<bool> TakesMerge()
    {
        if (!Order.Exists)
        {
            return Task.FromResult(false);
        }
        if (WorkOrderTransitions.IsTerminal(Order.State))
        {
            throw new DomainConflictException($"Work order '{Id}' is {Order.State}: merge into an order still open.");
        }
        if (_mergingInto is { } going)
        {
            throw new DomainConflictException($"Work order '{Id}' is being merged into '{going}' at this moment: merge into '{going}'.");
        }
        return Task.FromResult(true);
    }

    public async Task OrderMergedIn(string orderId)
    {
        if (!Order.Exists || Order.MergedOrders.Contains(orderId))
        {
            return;
        }
        if (Order.State == WorkOrderState.Cancelled)
        {
            // Cancelled while the duplicate's merge was on its way here: it goes back to work at once.
            await GrainFactory.GetGrain<IWorkOrderGrain>(orderId).MergeTargetCancelled(Id, SystemActor);
            return;
        }
        var change = new Change(Order, TimeProvider.GetUtcNow());
        change.Next = Order with { MergedOrders = [.. Order.MergedOrders, orderId] };
        Record(change, WorkOrderEvents.DuplicateMerged, SystemActor, null, new { OrderId = orderId });
        await Commit(change);
    }

    public async Task MergeTargetCancelled(string targetId, string actor)
    {
        if (!Order.Exists || Order.State != WorkOrderState.Merged || Order.MergedInto != targetId)
        {
            return; // reopened already (told twice after a restart), or never merged there
        }
        var change = new Change(Order, TimeProvider.GetUtcNow());
        await Reopened(change, SystemActor, null, $"{targetId}, which this request was merged into as a duplicate, was cancelled by {actor}: it is open again");
        await Commit(change);
    }

    /// <summary>A person's merge folds the order into work that goes on: an order still open or an outage not yet
    /// restored. An unknown id is a 404; a finished one a 409 (its work would be carried by no one). Merged is
    /// final, so two orders cannot be merged into each other, not even at the same instant (<see cref="TakesMerge"/>).
    /// (The service's own merges name what it just made.)</summary>
    private async Task<WorkOrderView> MergedByPerson(Change change, WorkOrderCommand command, WorkOrderState to)
    {
        var targetId = _mergingInto = MergeTarget(command.TargetId);
        try
        {
            var intoOrder = await GrainFactory.GetGrain<IWorkOrderGrain>(targetId).TakesMerge();
            if (!intoOrder)
            {
                var outage = await GrainFactory.GetGrain<IOutageGrain>(targetId).Get() ?? throw new EntityNotFoundException("Work order or outage", targetId);
                if (outage.State == OutageState.Restored)
                {
                    throw new DomainConflictException($"Outage '{targetId}' is restored: merge into an outage still open.");
                }
            }
            Withdrawn(change, command, to);
            change.Next = change.Next with { MergedIntoOrder = intoOrder };
            await Commit(change);
            return Order.ToView();
        }
        finally
        {
            _mergingInto = null;
        }
    }

    /// <summary>The order or outage a merge names, which is not this order.</summary>
    private string MergeTarget(string? targetId) =>
        string.IsNullOrWhiteSpace(targetId) || targetId == Id
            ? throw new InvalidFieldException("targetId", "Merge names the order or outage it folds into (not itself).")
            : targetId;

    /// <summary>Cancel or merge: the promises no longer apply, the crew lets go, a booking is released, dispatch forgets it.</summary>
    private void Withdrawn(Change change, WorkOrderCommand command, WorkOrderState to)
    {
        var order = change.Next;
        if (command.Action == Merge)
        {
            MergeTarget(command.TargetId);
        }
        if (order.CrewId is { } crew)
        {
            change.TellCrew(crew, to, null);
        }
        // The confirmed visit, or else a hold this activation made: neither keeps a slot from other customers.
        change.ReleaseBooking = order.BookingId ?? _heldVisit;
        if (order.BookingId is not null && _heldVisit is { } moving && moving != order.BookingId)
        {
            change.ReleaseHold = moving; // a move the customer had begun kept its slot from others for the hold's time
        }
        change.WithdrawFromDispatch = order.QueuedInDispatch;
        change.Next = order with
        {
            State = to,
            MergedInto = command.Action == Merge ? command.TargetId : null,
            OfferExpiresAt = null,
            UnansweredAlertAt = null,
            QueuedInDispatch = false,
            // Its booking is released with this change (above): the order no longer has a visit.
            BookingId = null,
            SlotStart = null,
            SlotEnd = null,
            DispatchBookedAt = null,
            CalledOffVisit = null,
            Clocks = [.. order.Clocks.Select(c => c.IsFinished ? c : c.Cancel(change.Now))],
        };
        Record(change, command.Action == Merge ? WorkOrderEvents.Merged : WorkOrderEvents.Cancelled, command.Actor, command.Location,
            new { Into = change.Next.MergedInto, order.CrewId, command.Note });
    }

    private async Task AskDispatch(Change change)
    {
        var order = change.Next;
        if (order.SuspendedAt is not null)
        {
            return; // on the customer's hold: dispatch hears of it when the hold ends
        }
        change.AskedDispatch = true;
        var decision = await GrainFactory.GetGrain<IDispatchGrain>(order.Region).RequestCrew(
            new DispatchRequest(order.Id, order.Kind, order.Priority, order.Location, ArrivalDue(order, change.Now), order.ExcludedCrews, order.LapsedCrews));
        if (decision is null)
        {
            change.Next = order with { QueuedInDispatch = true };
            return;
        }
        Offer(change, decision.CrewId, DispatchActor, null, null, decision);
    }

    // ---- time ----

    private async Task Handle(Change change, OrderMoment moment)
    {
        var order = change.Next;
        switch (moment.Kind)
        {
            case OrderMomentKind.Clock:
                var clock = order.Clocks[moment.Clock];
                var clocks = order.Clocks.ToArray();
                clocks[moment.Clock] = clock.Passed(moment.ClockMoment);
                change.Next = order with { Clocks = clocks };
                var lateBy = change.Now - moment.At;
                switch (moment.ClockMoment)
                {
                    case SlaMomentKind.Warn:
                        Record(change, WorkOrderEvents.SlaWarned, SystemActor, null, new { Clock = clock.Name, clock.WarnAt, clock.DueAt, LateBy = lateBy }, moment.At);
                        break;
                    case SlaMomentKind.Breach:
                        change.Next = change.Next with { Breaches = order.Breaches + 1, Escalated = true };
                        Record(change, WorkOrderEvents.SlaBreached, SystemActor, null, new { Clock = clock.Name, clock.DueAt, LateBy = lateBy }, moment.At);
                        Record(change, WorkOrderEvents.Escalated, SystemActor, null, new { Clock = clock.Name, Level = EscalationLevel.GridManager }, moment.At);
                        break;
                    default:
                        Record(change, WorkOrderEvents.Escalated, SystemActor, null, new { Clock = clock.Name, Level = EscalationLevel.RegionSupervisor }, moment.At);
                        break;
                }
                break;
            case OrderMomentKind.OfferLapse:
                await GiveUpOffer(change, WorkOrderEvents.OfferExpired, SystemActor, null, $"not accepted within {dispatchOptions.AcceptTimeout}", moment.At);
                break;
            case OrderMomentKind.BookedDispatch:
                Offer(change, order.CrewId!, SystemActor, null, "booked slot", null);
                break;
            case OrderMomentKind.UnansweredVisit:
                VisitUnanswered(change, SystemActor, $"not accepted within {dispatchOptions.AcceptTimeout}", moment.At);
                break;
            case OrderMomentKind.CallbackRetry:
                change.Next = order with { Callback = order.Callback! with { RetryAnnounced = true } };
                Record(change, WorkOrderEvents.CallbackDue, SystemActor, null, new { Attempt = order.Callback!.Attempts + 1, DueAt = order.Callback.NextAttemptAt ?? order.Callback.DueAt }, moment.At);
                break;
        }
    }

    /// <summary>The earliest thing the order must do by itself.</summary>
    private static OrderMoment? NextMoment(WorkOrderRecord order)
    {
        OrderMoment? next = null;
        void Consider(OrderMoment candidate)
        {
            if (next is null || candidate.At < next.Value.At)
            {
                next = candidate;
            }
        }
        for (var i = 0; i < order.Clocks.Count; i++)
        {
            if (order.Clocks[i].Next is { } moment)
            {
                Consider(new OrderMoment(moment.At, OrderMomentKind.Clock, i, moment.Kind));
            }
        }
        if (order.State == WorkOrderState.Dispatched && order.OfferExpiresAt is { } lapse)
        {
            Consider(new OrderMoment(lapse, OrderMomentKind.OfferLapse));
        }
        if (order.State == WorkOrderState.Dispatched && order.UnansweredAlertAt is { } unanswered)
        {
            Consider(new OrderMoment(unanswered, OrderMomentKind.UnansweredVisit));
        }
        // A customer's hold holds the booked visit too ("not home today": the crew was offered it at the slot anyway); it is
        // offered once the hold ends, at once if its time came meanwhile.
        if (order.State == WorkOrderState.Reserved && order.DispatchBookedAt is { } booked && order.SuspendedAt is null)
        {
            Consider(new OrderMoment(booked, OrderMomentKind.BookedDispatch));
        }
        if (order.State == WorkOrderState.CallbackPending && order.Callback is { NextAttemptAt: { } retry, RetryAnnounced: false })
        {
            Consider(new OrderMoment(retry, OrderMomentKind.CallbackRetry));
        }
        return next;
    }

    /// <summary>Stops the clocks that stop at <paramref name="milestone"/> and starts those that start there.</summary>
    private WorkOrderRecord ReachMilestone(Change change, WorkOrderRecord order, SlaMilestone milestone)
    {
        var clocks = new List<SlaClock>(order.Clocks.Count + 2);
        foreach (var clock in order.Clocks)
        {
            if (!clock.IsFinished && clock.StopsAt == milestone)
            {
                var stopped = clock.Stop(change.Now);
                change.Stopped.Add(stopped);
                clocks.Add(stopped);
            }
            else
            {
                clocks.Add(clock);
            }
        }
        foreach (var rule in sla.StartingAt(milestone, order.Kind, order.AreaClass, order.ConnectionCategory))
        {
            clocks.Add(SlaClock.Start(rule.Clock, rule.Basis, rule.Limit, rule.StopsAt, change.Now, sla, paused: order.SuspendedAt is not null));
        }
        return order with { Clocks = clocks };
    }

    private static object StoppedClocks(Change change) => change.Stopped.Select(c => new { c.Name, c.DueAt, c.Outcome });

    /// <summary>The nearest promise dispatch should weigh (the arrival limit for repairs); a day out when none runs.</summary>
    private static DateTimeOffset ArrivalDue(WorkOrderRecord order, DateTimeOffset now) =>
        order.Clocks.Where(c => !c.IsFinished).Select(c => c.DueAt).DefaultIfEmpty(now + TimeSpan.FromDays(1)).Min();

    // ---- storing and telling ----

    /// <summary>Plans the reminder, stores record, events and the reminder change in one write (one round trip, and
    /// never a stored promise without its wake-up), then tells crews, dispatch and the live counts. The reminder is
    /// set only when it must fire earlier than the one already set: one that fires early finds nothing due and
    /// re-plans. That keeps a typical lifecycle to one reminder registration and one removal.</summary>
    private async Task Commit(Change change)
    {
        var next = change.Next with
        {
            UpdatedAt = change.Events.Count > 0 ? change.Now : change.Before.UpdatedAt,
            Version = change.Before.Version + (change.Events.Count > 0 ? 1 : 0),
            DecisionVersion = change.Events.Exists(e => e.EventType is not (WorkOrderEvents.SlaWarned or WorkOrderEvents.SlaBreached or WorkOrderEvents.Escalated))
                ? change.Before.Version + 1
                : change.Before.DecisionVersion,
            RecentRequests = change.Request is { } request
                ? [.. change.Next.RecentRequests.TakeLast(RequestsRemembered - 1), request]
                : change.Next.RecentRequests,
        };
        var wanted = NextMoment(next)?.At;
        ReminderChange? reminder = null;
        if (wanted is null)
        {
            reminder = next.ReminderDueAt is null ? null : ReminderChange.Remove(ReminderName);
            next = next with { ReminderDueAt = null };
        }
        else if (next.ReminderDueAt is null || wanted < next.ReminderDueAt)
        {
            reminder = ReminderChange.Set(ReminderName, wanted.Value, TimeSpan.Zero);
            next = next with { ReminderDueAt = wanted };
        }
        if (next.CustomerId is not null && WorkOrderTransitions.IsTerminal(next.State) && !(change.Before.Exists && WorkOrderTransitions.IsTerminal(change.Before.State)))
        {
            // The customer's "Your requests" finds it there once the region's list has let it go.
            change.Events.Add(CustomerOrderHistory.Entry(WorkOrderSummary.Of(next), change.Now));
        }
        // A reminder to set is written even when nothing else changed: after a tick that found its moment not yet due,
        // the runtime has spent the reminder the record still names, and only this write registers it again.
        if (change.Events.Count == 0 && next == change.Before && reminder is null)
        {
            return;
        }
        state.State = next;
        try
        {
            await (reminder is { } planned ? state.WriteStateAsync(change.Events, planned) : state.WriteStateAsync(change.Events));
        }
        catch
        {
            state.State = change.Before;
            if (change.AskedDispatch && !change.Before.QueuedInDispatch)
            {
                // Dispatch was asked before the write (its answer is part of the change): the order it queued or offered
                // is not stored so, and stayed in its backlog, across restarts, until it tried to assign it.
                await WithdrawFromDispatch(change.Next.Region);
            }
            throw;
        }
        await Announce(change.Before, next, change);
    }

    /// <summary>Best effort: a failure here must not hide the failed write that called it.</summary>
    private async Task WithdrawFromDispatch(string region)
    {
        try
        {
            await GrainFactory.GetGrain<IDispatchGrain>(region).Withdraw(Id);
        }
        catch (Exception error)
        {
            LogDispatchNotWithdrawn(logger, error, Id);
        }
    }

    private async Task Announce(WorkOrderRecord before, WorkOrderRecord after, Change change)
    {
        var calls = new List<Task>(5);
        foreach (var (crew, notice) in change.CrewNotices)
        {
            calls.Add(GrainFactory.GetGrain<IFieldCrewGrain>(crew).OrderChanged(Id, notice.State, notice.AssignedCrew));
        }
        foreach (var release in new[] { change.ReleaseBooking, change.ReleaseHold })
        {
            if (release is not null && BookingId.CrewOf(release) is { } bookingCrew)
            {
                calls.Add(GrainFactory.GetGrain<IFieldCrewGrain>(bookingCrew).Release(release, SystemActor));
            }
        }
        if (change.WithdrawFromDispatch)
        {
            calls.Add(GrainFactory.GetGrain<IDispatchGrain>(after.Region).Withdraw(Id));
        }
        if (after.State == WorkOrderState.Merged && before.State != WorkOrderState.Merged && after.MergedIntoOrder && after.MergedInto is { } target)
        {
            calls.Add(GrainFactory.GetGrain<IWorkOrderGrain>(target).OrderMergedIn(Id));
        }
        if (after.State == WorkOrderState.Cancelled && before.State != WorkOrderState.Cancelled)
        {
            var by = change.Events.LastOrDefault(e => e.EventType == WorkOrderEvents.Cancelled)?.Actor ?? SystemActor;
            calls.AddRange(after.MergedOrders.Select(merged => GrainFactory.GetGrain<IWorkOrderGrain>(merged).MergeTargetCancelled(Id, by)));
        }
        // The region's order list hears of every stored change; the counts only of those that move a count.
        calls.Add(GrainFactory.GetGrain<IOpenOrdersGrain>(after.Region).OrderChanged(WorkOrderSummary.Of(after)));
        var previous = before.Exists ? CountKey(before) : null;
        var current = CountKey(after);
        if (previous != current)
        {
            var counted = new OrderCountChange(Id, previous, current);
            calls.Add(GrainFactory.GetGrain<IServiceCountsGrain>(ServiceCountsScope.Region(after.Region)).OrderChanged(counted));
            if (after.GridId is { } grid)
            {
                calls.Add(GrainFactory.GetGrain<IServiceCountsGrain>(ServiceCountsScope.Grid(grid)).OrderChanged(counted));
            }
        }
        var facts = OrderIndicatorFacts.Between(before, after, change.Now, sla);
        if (facts.Count > 0)
        {
            calls.AddRange(IndicatorScopes.Of(GrainFactory, after.Region).Select(scope => scope.OrderFacts(facts)));
        }
        if (after.OutageId is { } outage && (before.State != after.State || before.CrewId != after.CrewId))
        {
            if (after.State == WorkOrderState.Merged && after.MergedInto == outage)
            {
                calls.Add(GrainFactory.GetGrain<IOutageGrain>(outage).CallMerged(Id));
            }
            else if (WorkOrderTransitions.IsWorkedByCrew(after.State) || after.State == WorkOrderState.CallbackPending
                || (WorkOrderTransitions.IsWorkedByCrew(before.State) && after.State is WorkOrderState.Created or WorkOrderState.Rejected
                    or WorkOrderState.Reopened or WorkOrderState.Dispatched or WorkOrderState.Reserved))
            {
                // Crew progress, and a crew leaving the work (reassigned, handed back): the outage's crew is the one
                // working its repair. The outage itself creates, merges and cancels its repair order.
                calls.Add(GrainFactory.GetGrain<IOutageGrain>(outage).RepairChanged(Id, after.State, after.CrewId));
            }
        }
        try
        {
            await Task.WhenAll(calls);
        }
        catch (Exception error)
        {
            // The change is stored; a crew or index that missed it is told again by the order's next change (or by the
            // silo's recovery after a crash: Reannounce).
            LogAnnounceFailed(logger, error, Id);
        }
    }

    private static OrderCountKey CountKey(WorkOrderRecord order) => new(order.Kind, order.State, order.IsBreached, order.Escalated);

    private void Record(Change change, string type, string? actor, GeoPoint? where, object payload, DateTimeOffset? at = null) =>
        Journal(change, type, at ?? change.Now, actor, where ?? change.Next.Location, payload);

    /// <summary>A crew's step is journaled where the crew said it was, or with no place: a PDA without a position put the
    /// crew at the customer's door when it accepted, as the history read.</summary>
    private void RecordCrewStep(Change change, string type, WorkOrderCommand command, object payload) =>
        Journal(change, type, change.Now, command.Actor, command.Location, payload);

    private void Journal(Change change, string type, DateTimeOffset at, string? actor, GeoPoint? where, object payload) =>
        change.Events.Add(new JournalEvent(JournalStreams.Order(Id), type, at, actor, where?.ToString(), JsonSerializer.Serialize(payload, PayloadJson)));

    // ---- checks ----

    private async Task<WorkOrderRecord> Validate(NewWorkOrder order, DateTimeOffset now)
    {
        RequireActor(order.Actor);
        if (!Enum.IsDefined(order.Kind))
        {
            throw new InvalidFieldException("kind", "Unknown work order kind.");
        }
        if (!Enum.IsDefined(order.Channel))
        {
            throw new InvalidFieldException("channel", "Unknown intake channel.");
        }
        if (!Enum.IsDefined(order.Priority))
        {
            throw new InvalidFieldException("priority", "Unknown priority.");
        }
        if (string.IsNullOrWhiteSpace(order.Description))
        {
            throw new InvalidFieldException("description", "The description is required.");
        }
        if (PlainText.Characters(order.Description) > MaxDescriptionLength)
        {
            throw new InvalidFieldException("description", $"The description is at most {MaxDescriptionLength} characters.");
        }
        if (order.Kind == WorkOrderKind.NewConnection ? order.ConnectionCategory is null : order.ConnectionCategory is not null)
        {
            throw new InvalidFieldException("connectionCategory", "A connection category is required for a new connection and only for it.");
        }
        if (order.ConnectionCategory is { } category && !Enum.IsDefined(category))
        {
            throw new InvalidFieldException("connectionCategory", "Unknown connection category.");
        }
        if (order.AreaClass is { } area && !Enum.IsDefined(area))
        {
            throw new InvalidFieldException("areaClass", "Unknown area class.");
        }
        if (order.Location is { IsValid: false })
        {
            throw new InvalidFieldException("location", "The location is not a valid latitude/longitude.");
        }
        CustomerProfile? customer = null;
        if (order.CustomerId is not null)
        {
            // An unknown customer is a bad field of this request (400), not a missing resource (the order is what is asked for).
            customer = string.IsNullOrWhiteSpace(order.CustomerId) ? null : await GrainFactory.GetGrain<ICustomerGrain>(order.CustomerId).GetProfile();
            if (customer is null)
            {
                throw new InvalidFieldException("customerId", $"Customer '{order.CustomerId}' is not known.");
            }
        }
        var location = order.Location ?? customer?.Location ?? throw new InvalidFieldException("location", "The location is required when no customer gives it.");
        var region = order.Region ?? customer?.Region;
        if (string.IsNullOrWhiteSpace(region))
        {
            throw new InvalidFieldException("region", "The region is required when no customer gives it.");
        }
        // A region given with the order; a customer's is the imported one, and refusing it would leave them no way to report.
        if (order.Region is not null && RegionNames.Problem(order.Region) is { } problem)
        {
            throw new InvalidFieldException("region", $"region {problem}.");
        }
        if (order.Region is not null && customer is not null && order.Region != customer.Region)
        {
            throw new InvalidFieldException("region", $"Customer '{customer.Id}' is served in region '{customer.Region}', not '{order.Region}'.");
        }
        if (order.TransformerAreaId is { } areaId)
        {
            if (customer is not null && customer.TransformerAreaId != areaId)
            {
                throw new InvalidFieldException("transformerAreaId", $"Customer '{customer.Id}' is on transformer area '{customer.TransformerAreaId}', not '{areaId}'.");
            }
            // An outage's own repair order names the outage's area, which the outage read: not asked again (a storm opens
            // 20,000 of them).
            if (customer is null && order.OutageId is null)
            {
                var named = await GrainFactory.GetGrain<ITransformerAreaGrain>(areaId).GetProfile()
                    ?? throw new InvalidFieldException("transformerAreaId", $"Transformer area '{areaId}' is not known.");
                if (named.Region != region)
                {
                    throw new InvalidFieldException("region", $"Transformer area '{areaId}' is in region '{named.Region}', not '{region}'.");
                }
            }
        }
        // An outage's own repair order is in the region of the outage's feeder (a storm opens 20,000 of them).
        if (region != customer?.Region && order.OutageId is null && !await GrainFactory.GetGrain<IDispatchGrain>(region).Serves())
        {
            throw new InvalidFieldException(
                "region", $"Region '{region}' is not served here: no crew works in it and no feeder of the imported topology is in it.");
        }
        return new WorkOrderRecord
        {
            Exists = true,
            Id = Id,
            Kind = order.Kind,
            Channel = order.Channel,
            Priority = order.Priority,
            State = WorkOrderState.Created,
            Region = region,
            GridId = customer?.GridId,
            CustomerId = order.CustomerId,
            TransformerAreaId = order.TransformerAreaId ?? customer?.TransformerAreaId,
            Location = location,
            // No class given and no customer: the strictest promise (urban) applies.
            AreaClass = order.AreaClass ?? customer?.AreaClass ?? AreaClass.Urban,
            ConnectionCategory = order.ConnectionCategory,
            Description = order.Description,
            OutageId = order.OutageId,
            CreatedBy = order.Actor,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    /// <summary>The stored order is what <paramref name="order"/> would create, from the same sender.</summary>
    private bool SameCreation(NewWorkOrder order) =>
        Order.CreatedBy is { } creator && creator == order.Actor && Order.Kind == order.Kind && Order.CustomerId == order.CustomerId
        && Order.Description == order.Description;

    /// <summary>A fault call from a known customer asks the customer's transformer area what it knows: inside an
    /// outage the call merges into it (one repair per outage, not one per caller); a meter that reports power makes it
    /// a verify / customer-side case. An outage's own repair order is not classified.</summary>
    private async Task<WorkOrderRecord> Classify(WorkOrderRecord created, NewWorkOrder order)
    {
        if (created.Kind != WorkOrderKind.FaultRepair || order.OutageId is not null || order.CustomerId is null)
        {
            return created;
        }
        var customer = await GrainFactory.GetGrain<ICustomerGrain>(order.CustomerId).GetProfile();
        if (customer is null)
        {
            return created;
        }
        var call = await GrainFactory.GetGrain<IAreaPowerGrain>(customer.TransformerAreaId).ClassifyFaultCall(customer.MeterId, Id);
        return created with { Classification = call.Verdict, OutageId = call.OutageId };
    }

    /// <summary>When a customer makes this order (hotline, app, WeChat, SMS, web, service hall; not a crew's field report
    /// or a meter's order), the customer's intake takes it, one request at a time: the open fault order it repeats, if
    /// any; a self-service request past the limit is refused there (409).</summary>
    private Task<string?> TakeCustomersRequest(WorkOrderRecord created) =>
        TakesCustomersRequest(created)
            ? GrainFactory.GetGrain<ICustomerIntakeGrain>(created.CustomerId!).Take(WorkOrderSummary.Of(created))
            : Task.FromResult<string?>(null);

    private static bool TakesCustomersRequest(WorkOrderRecord created) =>
        created.CustomerId is not null && created.Channel is not (IntakeChannel.Field or IntakeChannel.Meter)
        && created.Classification != FaultCallVerdict.InOutage;

    private WorkOrderRecord RequireOrder()
    {
        if (!Order.Exists)
        {
            Unknown();
            throw new EntityNotFoundException("Work order", Id);
        }
        return Order;
    }

    /// <summary>How many identified requests an order remembers; a resend comes within seconds, long before this many
    /// other actions.</summary>
    internal const int RequestsRemembered = 8;

    private static void RequireActor(string actor)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new InvalidFieldException("actor", "The actor (who does this) is required.");
        }
    }

    private void RequireAssignedCrew(WorkOrderRecord order, WorkOrderCommand command)
    {
        if (string.IsNullOrWhiteSpace(command.CrewId))
        {
            throw new InvalidFieldException("crewId", $"{command.Action} is a crew action: the acting crew is required.");
        }
        if (command.CrewId != order.CrewId)
        {
            throw new DomainConflictException($"Work order '{Id}' is assigned to crew '{order.CrewId}', not '{command.CrewId}': {command.Action} is not allowed.");
        }
    }

    private WorkOrderState Move(WorkOrderRecord order, WorkOrderAction action) =>
        WorkOrderTransitions.TryNext(order.State, action, out var to) ? to : throw Illegal(order, action);

    private DomainConflictException Illegal(WorkOrderRecord order, WorkOrderAction action) => action switch
    {
        // A customer confirming the visit time they picked, as a dispatcher sent a crew (the tracker showed the bare
        // "is Dispatched: Reserve is not allowed"); the hold is let go with the failed confirm.
        Reserve when WorkOrderTransitions.IsWorkedByCrew(order.State) || order.State == WorkOrderState.Dispatched =>
            new($"Work order '{Id}' is {order.State}: a crew{(order.CrewId is { } crew ? $" ({crew})" : "")} was sent for it meanwhile, so the visit time was not booked; "
                + "the crew comes as soon as it can. To agree on a time, call the 95598 service line."),
        Reserve => new($"Work order '{Id}' is {order.State} now: a visit time can no longer be booked for it."),
        _ => new($"Work order '{Id}' is {order.State}: {action} is not allowed."),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work order {OrderId}: its earlier hold {BookingId} at another crew was not released; it lapses at its hold time")]
    private static partial void LogHoldNotReleased(ILogger logger, Exception error, string orderId, string bookingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work order {OrderId}: its change was not stored, and dispatch, asked for a crew in it, could not be told to forget it (it drops the order when it next tries to assign it)")]
    private static partial void LogDispatchNotWithdrawn(ILogger logger, Exception error, string orderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work order {OrderId}: its change is stored but a crew, dispatch, the live counts, the order list or the indicators did not hear of it")]
    private static partial void LogAnnounceFailed(ILogger logger, Exception error, string orderId);

    /// <summary>One turn's change: the next record, the events that explain it, and whom to tell once it is stored.</summary>
    private sealed class Change(WorkOrderRecord before, DateTimeOffset now)
    {
        public WorkOrderRecord Before { get; } = before;
        public WorkOrderRecord Next { get; set; } = before;
        public DateTimeOffset Now { get; } = now;
        public List<JournalEvent> Events { get; } = new(2);
        public List<SlaClock> Stopped { get; } = [];

        /// <summary>Last word per crew: a crew told twice in one turn hears only the final state.</summary>
        public Dictionary<string, (WorkOrderState State, string? AssignedCrew)> CrewNotices { get; } = new(StringComparer.Ordinal);
        public string? ReleaseBooking { get; set; }

        /// <summary>A hold the order took to move its booked visit, released with a change that ends the visit.</summary>
        public string? ReleaseHold { get; set; }
        public bool WithdrawFromDispatch { get; set; }

        /// <summary>Dispatch was asked for a crew in this change (and holds the order, queued or offered).</summary>
        public bool AskedDispatch { get; set; }

        /// <summary>The identified request this change carries out ("actor request-id"), remembered with it.</summary>
        public string? Request { get; set; }

        public void TellCrew(string crew, WorkOrderState state, string? assignedCrew) => CrewNotices[crew] = (state, assignedCrew);
    }

    private enum OrderMomentKind
    {
        Clock,
        OfferLapse,
        BookedDispatch,
        UnansweredVisit,
        CallbackRetry,
    }

    private readonly record struct OrderMoment(DateTimeOffset At, OrderMomentKind Kind, int Clock = -1, SlaMomentKind ClockMoment = default);
}
