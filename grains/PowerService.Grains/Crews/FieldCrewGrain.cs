using System.Globalization;
using System.Text.Json;
using PowerService.Grains.Dispatch;
using PowerService.Grains.Regions;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.Crews;

/// <summary>A field crew. It is the single place its slots are booked, so turn-based execution alone rules out double
/// booking. Facts that matter to dispatch are pushed to the region's dispatch grain after each durable change; the crew
/// never calls a work order (orders call crews, so a call back would be a cycle).</summary>
internal sealed class FieldCrewGrain(IPersistentState<FieldCrewState> state, BookingOptions booking)
    : Grain, IFieldCrewGrain, IRemindable
{
    private const string HoldExpiryReminder = "hold-expiry";
    private const int MaxCapacity = 50;
    private const int MaxShifts = 1_000;
    // Long enough for a storm duty rota entered as one stretch; not "on shift for ever".
    private static readonly TimeSpan MaxShiftLength = TimeSpan.FromDays(31);

    // How the crew holds an order in each state; any other state means the order has left the crew.
    private static readonly Dictionary<WorkOrderState, OrderHolding> Holdings = new()
    {
        [WorkOrderState.Reserved] = OrderHolding.Queued,
        [WorkOrderState.Dispatched] = OrderHolding.Queued,
        [WorkOrderState.Accepted] = OrderHolding.Current,
        [WorkOrderState.EnRoute] = OrderHolding.Current,
        [WorkOrderState.OnSite] = OrderHolding.Current,
    };

    // Bookings and slots this long past their end are dropped from state (the journal keeps them).
    private static readonly TimeSpan KeepPastSlots = TimeSpan.FromDays(1);

    /// <summary>A visit slot lasts from <see cref="MinSlotLength"/> to <see cref="MaxSlotLength"/> (a day's work at most).</summary>
    private static readonly TimeSpan MinSlotLength = TimeSpan.FromMinutes(15);

    private static readonly TimeSpan MaxSlotLength = TimeSpan.FromHours(24);

    /// <summary>How far ahead slots can be published: a crew's roster is not planned further.</summary>
    private static readonly TimeSpan SlotHorizon = TimeSpan.FromDays(366);

    private static readonly TimeSpan OrderListFlushDelay = TimeSpan.FromSeconds(1);

    private readonly List<JournalEvent> _pendingEvents = [];
    private IDisposable? _orderListFlush;
    private IDisposable? _shiftEnd;
    private DateTimeOffset? _holdReminderDueAt;
    private long _commits;

    private FieldCrewState S => state.State;

    private string Id => GetPrimaryKeyString();

    private DateTimeOffset Now => TimeProvider.GetUtcNow();

    public Task<CrewView> Register(CrewProfile profile, string actor) => Undoable(async () =>
    {
        Validate(Id, profile, actor);
        var previous = S.Profile;
        var previousStatus = previous is null ? (CrewStatus?)null : EffectiveStatus();
        var movedFrom = previous is not null && previous.Region != profile.Region ? previous.Region : null;
        S.Profile = profile with { Skills = [.. profile.Skills.Distinct()], Shifts = [.. profile.Shifts.OrderBy(s => s.Start)] };
        if (previous is null)
        {
            S.Location = profile.Home;
        }
        await CommitAsync([Event(new CrewRegistered(S.Profile, movedFrom), actor)]);

        var current = EffectiveStatus();
        if (movedFrom is not null)
        {
            // The old region stops offering this crew, and stops listing it as one of its own.
            await GrainFactory.GetGrain<IDispatchGrain>(movedFrom).RemoveCrew(Id);
            await Counts(movedFrom).CrewChanged(new CrewCountChange(Id, previousStatus, null));
            previousStatus = null;
        }
        await PublishAsync(previousStatus, current);
        if (movedFrom is not null)
        {
            // Its offers not yet answered go back to the old region's dispatch now (they sat on a crew in another district
            // until they lapsed), and the visits booked with it are flagged to dispatchers; the work it accepted stays its
            // own until a dispatcher reassigns it.
            await CannotAnswer(actor, $"the crew was moved to region {profile.Region}", withBookedVisits: true);
        }
        else if (previous is not null && previous.Skills.Except(S.Profile.Skills).Any())
        {
            // A skill taken away: the offers and booked visits whose work needs it are handed back the same way (each
            // order knows the skill its work needs).
            await TellOrders(withBookedVisits: true, order => order.CrewSkillsChanged(Id, S.Profile.Skills, actor));
        }
        if (previous is not null && DispatchScoring.OnShift(previous.Shifts, Now) && !DispatchScoring.OnShift(S.Profile.Shifts, Now))
        {
            // New shifts that end the one it was on: as going off shift (its booked visits are for their own times).
            await CannotAnswer(actor, "the crew's shifts were changed and it is off shift now", withBookedVisits: false);
        }
        _shiftEnd?.Dispose();
        _shiftEnd = null;
        WatchShiftEnd();
        return View();
    });

    public Task<CrewView?> Get() => Task.FromResult(S.Profile is null ? Unknown() : View());

    /// <summary>A crew never registered holds nothing: its activation goes unless another call comes first.</summary>
    private CrewView? Unknown()
    {
        DeactivateIfUnused();
        return null;
    }

    public Task Reannounce() =>
        S.Profile is null ? Task.CompletedTask : GrainFactory.GetGrain<IDispatchGrain>(S.Profile.Region).UpdateCrew(Snapshot());

    public Task<CrewView> ReportLocation(GeoPoint location, string actor) => Undoable(async () =>
    {
        RequireActor(actor);
        if (!location.IsValid)
        {
            throw new InvalidFieldException("location", "The location must be a valid latitude and longitude.");
        }
        if (!location.IsFix)
        {
            throw new InvalidFieldException("location", "0, 0 is what a GPS without a fix reports, not the crew's position.");
        }
        RequireRegistered();
        var status = EffectiveStatus();
        S.Location = location;
        S.LocationAt = Now;
        await CommitAsync([Event(new CrewLocationReported(location.Latitude, location.Longitude), actor)]);
        await PublishAsync(status, EffectiveStatus());
        return View();
    });

    public Task<CrewView> SetStatus(CrewStatus status, string actor) => Undoable(async () =>
    {
        RequireActor(actor);
        if (!Enum.IsDefined(status))
        {
            throw new InvalidFieldException("status", "Unknown crew status.");
        }
        RequireRegistered();
        var previous = EffectiveStatus();
        S.DeclaredStatus = status;
        await CommitAsync([Event(new CrewStatusChanged(previous, EffectiveStatus()), actor)]);
        await PublishAsync(previous, EffectiveStatus());
        if (previous != CrewStatus.OffShift && EffectiveStatus() == CrewStatus.OffShift)
        {
            // Offers the crew has not answered go back to dispatch now, not when they lapse: a fault's arrival promise
            // keeps running meanwhile. What it accepted stays its own until a dispatcher reassigns it.
            await CannotAnswer(actor, "the crew went off shift before answering", withBookedVisits: false);
        }
        return View();
    });

    /// <summary>Tells the orders offered to the crew (and, <paramref name="withBookedVisits"/>, those booked with it) that
    /// it can no longer answer them, and why.</summary>
    private Task CannotAnswer(string actor, string reason, bool withBookedVisits) =>
        TellOrders(withBookedVisits, order => order.CrewCannotAnswer(Id, actor, reason));

    /// <summary>Calls <paramref name="tell"/> on each order offered to the crew and, <paramref name="withBookedVisits"/>,
    /// each booked with it (one-way calls: an order may be telling the crew of its own change).</summary>
    private async Task TellOrders(bool withBookedVisits, Func<IWorkOrderGrain, Task> tell)
    {
        foreach (var (orderId, orderState) in S.Orders)
        {
            if (orderState == WorkOrderState.Dispatched || (withBookedVisits && orderState == WorkOrderState.Reserved))
            {
                await tell(GrainFactory.GetGrain<IWorkOrderGrain>(orderId));
            }
        }
    }

    public async Task OrderChanged(string orderId, WorkOrderState orderState, string? crewId)
    {
        if (string.IsNullOrWhiteSpace(orderId))
        {
            throw new InvalidFieldException("orderId", "The order id is required.");
        }
        RequireRegistered();
        var holds = crewId == Id && Holdings.ContainsKey(orderState);
        var known = S.Orders.TryGetValue(orderId, out var knownState);
        if (holds ? known && knownState == orderState : !known)
        {
            return;
        }
        var previous = EffectiveStatus();
        if (holds)
        {
            S.Orders[orderId] = orderState;
        }
        else
        {
            S.Orders.Remove(orderId);
        }
        // The crew's order list mirrors the orders' own states, which are durable and journaled by the orders: it is
        // written behind, at most once per OrderListFlushDelay, instead of once per order step (5 of the 11 writes
        // of an order's lifecycle before). A crash loses at most that much of the list; the silo's recovery has the orders
        // changed meanwhile report again, and the crew confirms the rest when it activates (OnActivateAsync). Dispatch
        // and the counts hear of the change at once.
        var current = EffectiveStatus();
        _pendingEvents.Add(Event(new CrewOrderChanged(orderId, orderState, holds), JournalStreams.Order(orderId)));
        if (current != previous)
        {
            _pendingEvents.Add(Event(new CrewStatusChanged(previous, current), JournalStreams.Order(orderId)));
        }
        S.UpdatedAt = Now;
        _orderListFlush ??= RegisterTimer(_ => FlushOrderListAsync(), OrderListFlushDelay, OrderListFlushDelay);
        await PublishAsync(previous, current);
        if (holds && orderState == WorkOrderState.Dispatched)
        {
            WatchShiftEnd();
        }
        if (holds && orderState == WorkOrderState.Dispatched && current == CrewStatus.OffShift)
        {
            // Offered as the crew went off shift (the order checked it on shift a moment before): going off shift handed
            // back only the offers already here, and this one sat with a crew on its break until it lapsed.
            await GrainFactory.GetGrain<IWorkOrderGrain>(orderId).OfferedWhileOffShift(Id);
        }
    }

    /// <summary>The stored order list may be from before a crash (it is written behind): each order on it is asked to
    /// confirm, one-way, and answers with <see cref="OrderChanged"/> — an order that left the crew meanwhile drops off.
    /// Orders missing from the list are told again by the silo's recovery (<see cref="IWorkOrderGrain.Reannounce"/>).</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var orderId in S.Orders.Keys.ToList())
        {
            await GrainFactory.GetGrain<IWorkOrderGrain>(orderId).ConfirmToCrew(Id);
        }
        // Each confirmed visit still ahead is its order's, or a crash left it behind: the order says (one-way) and has it
        // released if it no longer names it.
        var now = Now;
        foreach (var booking in S.Bookings.Values.Where(b => b.State == BookingState.Confirmed && b.SlotEnd > now).ToList())
        {
            await GrainFactory.GetGrain<IWorkOrderGrain>(booking.OrderId).ConfirmBookingToCrew(Id, booking.Id);
        }
        WatchShiftEnd();
    }

    /// <summary>While the crew holds offers, wakes it when its shift ends by the clock: its offers go back to dispatch
    /// then, as when it goes off shift (they sat with a crew whose shift was over until they lapsed, 5 minutes of a
    /// 45-minute promise). A shift that runs straight into the next is no end.</summary>
    private void WatchShiftEnd()
    {
        if (_shiftEnd is not null || S.Profile is null || !S.Orders.ContainsValue(WorkOrderState.Dispatched))
        {
            return;
        }
        var now = Now;
        var end = S.Profile.Shifts.Where(s => s.Start <= now && now < s.End).Select(s => (DateTimeOffset?)s.End).Max();
        if (end is null)
        {
            return;
        }
        _shiftEnd = RegisterTimer(async _ =>
        {
            _shiftEnd = null;
            if (S.Profile is null || DispatchScoring.OnShift(S.Profile.Shifts, Now))
            {
                WatchShiftEnd();
                return;
            }
            await CannotAnswer("system", "the crew's shift ended before it answered", withBookedVisits: false);
        }, end.Value - now, TimeSpan.Zero);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => FlushOrderListAsync();

    private async Task FlushOrderListAsync()
    {
        if (_pendingEvents.Count > 0)
        {
            await CommitAsync([]);
        }
    }

    // ---- booking (预约) ----

    public Task<IReadOnlyList<SlotView>> PublishSlots(IReadOnlyList<TimeSlot> slots, string actor) => Undoable<IReadOnlyList<SlotView>>(async () =>
    {
        RequireActor(actor);
        ValidateSlots(slots);
        RequireRegistered();
        var now = Now;
        for (var i = 0; i < slots.Count; i++)
        {
            // A slot this old would be forgotten as soon as it is stored.
            if (slots[i].End < now - KeepPastSlots)
            {
                throw new InvalidFieldException($"slots[{i}].end", $"The slot at {slots[i].Start:O} ended more than {KeepPastSlots.TotalDays:0} days ago; only current and future slots can be published.");
            }
            if (slots[i].Start > now + SlotHorizon)
            {
                throw new InvalidFieldException($"slots[{i}].start", $"The slot at {slots[i].Start:O} is more than {SlotHorizon.TotalDays:0} days ahead.");
            }
        }
        var events = ExpireDueHolds(now);
        for (var i = 0; i < slots.Count; i++)
        {
            var slot = slots[i];
            var existing = S.Slots.FindIndex(s => s.Start == slot.Start);
            var booked = LiveBookings(slot.Start, now).Count();
            if (existing >= 0 && booked > 0 && S.Slots[existing].End != slot.End)
            {
                throw new DomainConflictException($"The slot at {slot.Start:O} has bookings; its end cannot move.", ConflictCodes.SlotUnavailable);
            }
            if (booked > slot.Capacity)
            {
                throw new DomainConflictException($"The slot at {slot.Start:O} has {booked} bookings; its capacity cannot drop to {slot.Capacity}.", ConflictCodes.SlotUnavailable);
            }
            if (S.Slots.Any(s => s.Start != slot.Start && s.Start < slot.End && slot.Start < s.End))
            {
                throw new InvalidFieldException($"slots[{i}].start", $"The slot at {slot.Start:O} overlaps another published slot.");
            }
        }
        foreach (var slot in slots)
        {
            S.Slots.RemoveAll(s => s.Start == slot.Start);
            S.Slots.Add(new SlotRecord(slot.Start, slot.End, slot.Capacity));
        }
        S.Slots.Sort((a, b) => a.Start.CompareTo(b.Start));
        ForgetPast(now);
        events.Add(Event(new SlotsPublished(slots), actor));
        await CommitAsync(events);
        return [.. slots.Select(s => SlotViewOf(S.Slots.First(r => r.Start == s.Start), now))];
    });

    public Task<IReadOnlyList<SlotView>> GetSlots(DateTimeOffset from, DateTimeOffset to)
    {
        var now = Now;
        IReadOnlyList<SlotView> slots = [.. S.Slots.Where(s => s.Start < to && s.End > from).Select(s => SlotViewOf(s, now))];
        return Task.FromResult(slots);
    }

    public Task<Booking> Hold(BookingRequest request) => Undoable(async () =>
    {
        if (request is null || string.IsNullOrWhiteSpace(request.OrderId))
        {
            throw new InvalidFieldException("orderId", "The order id is required.");
        }
        RequireActor(request.Actor);
        RequireRegistered();
        if (request.Skill is { } skill && !S.Profile!.Skills.Contains(skill))
        {
            throw new InvalidFieldException("crewId", $"Crew '{Id}' has no {skill} skill, which the order's work needs: book a crew that has it.");
        }
        if (request.ByCustomer && request.Region is { } region && !string.Equals(S.Profile!.Region, region, StringComparison.Ordinal))
        {
            // Found through the crews' slots, a crew across the city was booked for a customer: a visit it could not
            // make in time, and places its own region's customers could not have.
            throw new InvalidFieldException("crewId", $"Crew '{Id}' does not work in region '{region}', where the visit is: book one of the times offered for the request.");
        }
        var now = Now;
        var events = ExpireDueHolds(now);
        var existing = LiveBookings(request.SlotStart, now).FirstOrDefault(b => b.OrderId == request.OrderId);
        if (existing is not null)
        {
            await CommitIfAnyAsync(events);
            return BookingOf(existing);
        }
        var slot = S.Slots.Find(s => s.Start == request.SlotStart);
        if (slot is null || slot.End <= now)
        {
            await CommitIfAnyAsync(events);
            throw new DomainConflictException($"Crew '{Id}' has no open slot starting at {request.SlotStart:O}.", ConflictCodes.SlotUnavailable);
        }
        // A customer's visit leaves the crew its dispatch lead: a slot starting sooner, or under way, is a promise the
        // crew cannot keep (a customer booked a visit half over). A dispatcher may fit one in, agreed with the crew.
        if (request.ByCustomer && slot.Start < now + booking.DispatchLead)
        {
            await CommitIfAnyAsync(events);
            throw new DomainConflictException(
                $"The slot of crew '{Id}' at {TimeText.Minute(slot.Start, request.SlotStart)} starts too soon: a visit is booked at least {booking.DispatchLead.TotalMinutes:0} minutes "
                + $"ahead, so that the crew can be sent in time. The earliest start you can book now is {TimeText.Minute(EarliestBookable(now, request.SlotStart.Offset))}.", ConflictCodes.SlotUnavailable);
        }
        // One hold per order at a crew: a hold on another slot moves here (one order holding every slot would keep them
        // from every other customer). A confirmed visit stands beside it until the order confirms the new one in its
        // place (a customer moving their visit) and releases it.
        var other = S.Bookings.Values.FirstOrDefault(b => b.OrderId == request.OrderId && b.State == BookingState.Held && IsLive(b, now));
        if (LiveBookings(slot.Start, now).Count() >= slot.Capacity)
        {
            await CommitIfAnyAsync(events);
            throw new DomainConflictException($"The slot of crew '{Id}' at {slot.Start:O} is full.", ConflictCodes.SlotUnavailable);
        }
        if (other is not null)
        {
            Released(other, request.Actor, events);
        }
        S.LastBookingNumber++;
        var held = new BookingRecord(
            BookingId.Create(Id, S.LastBookingNumber), request.OrderId, slot.Start, slot.End, BookingState.Held, now + booking.HoldDuration, request.Actor,
            request.Skill, request.ByCustomer ? request.Region : null);
        S.Bookings[held.Id] = held;
        events.Add(BookingEvent(held, request.Actor));
        await CommitAsync(events);
        return BookingOf(held);
    });

    public Task<Booking> Confirm(string bookingId, string actor) => Undoable(async () =>
    {
        RequireActor(actor);
        var found = FindBooking(bookingId);
        var events = ExpireDueHolds(Now);
        found = S.Bookings[found.Id];
        if (found.State == BookingState.Confirmed)
        {
            await CommitIfAnyAsync(events);
            return BookingOf(found);
        }
        if (found.State != BookingState.Held)
        {
            await CommitOrSyncAsync(events);
            throw new DomainConflictException($"Booking '{bookingId}' is {found.State} and can no longer be confirmed.");
        }
        // The dispatch lead holds at the confirm too: a hold lasts minutes, and one taken 31 minutes ahead was confirmed
        // 29 minutes ahead, the crew sent at once to a visit it could not make. The hold lapses by itself.
        if (Actors.IsCustomer(actor) && found.SlotStart < Now + booking.DispatchLead)
        {
            await CommitIfAnyAsync(events);
            throw new DomainConflictException(
                $"The visit held at {TimeText.Minute(found.SlotStart)} now starts within {booking.DispatchLead.TotalMinutes:0} minutes: too late to confirm, "
                + "as the crew could not be sent in time. Book a later slot.");
        }
        // What the hold was checked for holds at the confirm too: a crew that lost the skill or moved region meanwhile
        // (a roster import) was booked all the same, and no dispatcher heard of it. The hold is released.
        var lost = found.Skill is { } skill && !S.Profile!.Skills.Contains(skill)
            ? $"no longer has the {skill} skill the visit needs"
            : found.CustomerRegion is { } region && !string.Equals(S.Profile!.Region, region, StringComparison.Ordinal)
                ? $"no longer works in region '{region}', where the visit is"
                : null;
        if (lost is not null)
        {
            Released(found, actor, events);
            await CommitAsync(events);
            throw new DomainConflictException($"Crew '{Id}' {lost}: its hold is released; book one of the times offered for the request.", ConflictCodes.SlotUnavailable);
        }
        var confirmed = found with { State = BookingState.Confirmed, HoldExpiresAt = null };
        S.Bookings[confirmed.Id] = confirmed;
        events.Add(BookingEvent(confirmed, actor));
        await CommitAsync(events);
        return BookingOf(confirmed);
    });

    public Task<Booking?> GetBooking(string bookingId)
    {
        if (S.Profile is null)
        {
            Unknown(); // a booking id naming a crew that does not exist
            return Task.FromResult<Booking?>(null);
        }
        return Task.FromResult(S.Bookings.TryGetValue(bookingId, out var found) ? BookingOf(found) : null);
    }

    public Task Release(string bookingId, string actor) => ReleaseBooking(bookingId, actor, holdOnly: false);

    public Task ReleaseHold(string bookingId, string actor) => ReleaseBooking(bookingId, actor, holdOnly: true);

    private Task ReleaseBooking(string bookingId, string actor, bool holdOnly) => Undoable(async () =>
    {
        RequireActor(actor);
        var found = FindBooking(bookingId);
        var events = ExpireDueHolds(Now);
        found = S.Bookings[found.Id];
        if (holdOnly && found.State == BookingState.Confirmed)
        {
            // A confirmed booking is the order's: cancelling or reassigning the order releases it with the order's own record.
            throw new DomainConflictException($"Booking '{bookingId}' is confirmed for order '{found.OrderId}': cancel or reassign the order to release it.");
        }
        if (found.State is BookingState.Held or BookingState.Confirmed)
        {
            Released(found, actor, events);
        }
        await CommitOrSyncAsync(events);
    });

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != HoldExpiryReminder)
        {
            return Task.CompletedTask;
        }
        _holdReminderDueAt = null;
        return Undoable(() => CommitOrSyncAsync(ExpireDueHolds(Now)));
    }

    // ---- status and what others are told ----

    /// <summary>Off shift wins; otherwise an order on site or en route says where the crew is; otherwise what was declared.</summary>
    private CrewStatus EffectiveStatus()
    {
        if (S.DeclaredStatus == CrewStatus.OffShift)
        {
            return CrewStatus.OffShift;
        }
        if (S.Orders.ContainsValue(WorkOrderState.OnSite))
        {
            return CrewStatus.OnSite;
        }
        return S.Orders.ContainsValue(WorkOrderState.EnRoute) ? CrewStatus.Travelling : S.DeclaredStatus;
    }

    private async Task PublishAsync(CrewStatus? previous, CrewStatus current)
    {
        var region = S.Profile!.Region;
        await GrainFactory.GetGrain<IDispatchGrain>(region).UpdateCrew(Snapshot());
        if (previous != current)
        {
            await Counts(region).CrewChanged(new CrewCountChange(Id, previous, current));
        }
    }

    private IServiceCountsGrain Counts(string region) => GrainFactory.GetGrain<IServiceCountsGrain>("region:" + region);

    /// <summary>What dispatch counts: the orders the crew works or is offered now. A booked visit (Reserved) counts from
    /// its dispatch ahead of the slot, not from the booking: visits booked for next week kept the crew from every repair
    /// this week.</summary>
    private CrewSnapshot Snapshot()
    {
        List<string> counted = [.. S.Orders.Where(o => o.Value != WorkOrderState.Reserved).Select(o => o.Key)];
        return new(Id, S.Profile!.Skills, S.Profile.Shifts, EffectiveStatus(), S.Location, S.Profile.Capacity, counted.Count, counted);
    }

    private CrewView View() => new(
        Id,
        S.Profile!,
        EffectiveStatus(),
        S.Location,
        S.LocationAt,
        [.. S.Orders.Where(o => Holdings[o.Value] == OrderHolding.Current).Select(o => o.Key).Order(StringComparer.Ordinal)],
        [.. S.Orders.Where(o => Holdings[o.Value] == OrderHolding.Queued).Select(o => o.Key).Order(StringComparer.Ordinal)],
        S.UpdatedAt);

    // ---- booking internals ----

    private IEnumerable<BookingRecord> LiveBookings(DateTimeOffset slotStart, DateTimeOffset now) =>
        S.Bookings.Values.Where(b => b.SlotStart == slotStart && IsLive(b, now));

    private static bool IsLive(BookingRecord b, DateTimeOffset now) =>
        b.State == BookingState.Confirmed || (b.State == BookingState.Held && b.HoldExpiresAt > now);

    private SlotView SlotViewOf(SlotRecord slot, DateTimeOffset now)
    {
        var live = LiveBookings(slot.Start, now).ToList();
        var confirmed = live.Count(b => b.State == BookingState.Confirmed);
        return new SlotView(slot.Start, slot.End, slot.Capacity, live.Count - confirmed, confirmed);
    }

    /// <summary>Expires every hold that is due: a hold past its time is gone whether or not the reminder has fired.</summary>
    private List<JournalEvent> ExpireDueHolds(DateTimeOffset now)
    {
        var events = new List<JournalEvent>();
        foreach (var due in S.Bookings.Values.Where(b => b.State == BookingState.Held && b.HoldExpiresAt <= now).ToList())
        {
            var expired = due with { State = BookingState.Expired };
            S.Bookings[expired.Id] = expired;
            events.Add(BookingEvent(expired, "system"));
        }
        return events;
    }

    private DateTimeOffset? EarliestHoldExpiry() => S.Bookings.Values.Where(b => b.State == BookingState.Held).Min(b => b.HoldExpiresAt);

    /// <summary>The hold-expiry reminder change the state now calls for, or null when the one set is right.</summary>
    private ReminderChange? HoldReminderChange(DateTimeOffset? earliest) =>
        earliest == _holdReminderDueAt ? null
        : earliest is { } due ? ReminderChange.Set(HoldExpiryReminder, due, TimeSpan.Zero)
        : ReminderChange.Remove(HoldExpiryReminder);

    /// <summary>Keeps the hold-expiry reminder in step when nothing else is written (a write carries it itself).</summary>
    private async Task SyncHoldReminderAsync()
    {
        var earliest = EarliestHoldExpiry();
        switch (HoldReminderChange(earliest))
        {
            case { DueAt: { } due }:
                await RegisterOrUpdateReminder(HoldExpiryReminder, due, TimeSpan.Zero);
                break;
            case not null:
                await UnregisterReminder(HoldExpiryReminder);
                break;
        }
        _holdReminderDueAt = earliest;
    }

    private BookingRecord FindBooking(string bookingId)
    {
        if (string.IsNullOrWhiteSpace(bookingId))
        {
            throw new InvalidFieldException("bookingId", "The booking id is required.");
        }
        if (S.Profile is null)
        {
            Unknown();
        }
        return S.Bookings.TryGetValue(bookingId, out var found) ? found : throw new EntityNotFoundException("Booking", bookingId);
    }

    /// <summary>Frees the booking's capacity and journals it (a release, or a hold moved to another slot).</summary>
    private void Released(BookingRecord b, string actor, List<JournalEvent> events)
    {
        var released = b with { State = BookingState.Released, HoldExpiresAt = null };
        S.Bookings[released.Id] = released;
        events.Add(BookingEvent(released, actor));
    }

    /// <summary>The first whole minute a customer may book a visit from, in the zone the crew's slots are given in.</summary>
    private DateTimeOffset EarliestBookable(DateTimeOffset now, TimeSpan offset)
    {
        var ticks = (now + booking.DispatchLead).UtcTicks;
        var minute = (ticks + TimeSpan.TicksPerMinute - 1) / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute;
        return new DateTimeOffset(minute, TimeSpan.Zero).ToOffset(offset);
    }



    private Booking BookingOf(BookingRecord b) => new(b.Id, Id, b.OrderId, b.SlotStart, b.SlotEnd, b.State, b.HoldExpiresAt);

    private void ForgetPast(DateTimeOffset now)
    {
        var horizon = now - KeepPastSlots;
        S.Slots.RemoveAll(s => s.End < horizon);
        foreach (var old in S.Bookings.Values.Where(b => b.SlotEnd < horizon && b.State != BookingState.Held).ToList())
        {
            S.Bookings.Remove(old.Id);
        }
    }

    // ---- state and journal ----

    /// <summary>Runs a change of the crew's state; when it fails before anything is stored — a refusal found after the
    /// state was touched, or a write the store did not take — the state goes back to what it was, so no half change is
    /// served meanwhile or lands later with another write and without its journal event.</summary>
    private async Task<T> Undoable<T>(Func<Task<T>> change)
    {
        var before = S.Copy();
        var commits = _commits;
        try
        {
            return await change();
        }
        catch when (_commits == commits)
        {
            state.State = before;
            throw;
        }
    }

    private Task Undoable(Func<Task> change) => Undoable(async () =>
    {
        await change();
        return true;
    });

    /// <summary>Writes the state with <paramref name="events"/>, with the order-list changes waiting to be written, and
    /// with the hold-expiry reminder the bookings now call for, in one transaction: a hold is never stored without the
    /// wake-up that expires it.</summary>
    private async Task CommitAsync(IReadOnlyList<JournalEvent> events)
    {
        S.UpdatedAt = Now;
        var earliest = EarliestHoldExpiry();
        var reminder = HoldReminderChange(earliest);
        IReadOnlyList<JournalEvent> all = _pendingEvents.Count == 0 ? events : [.. _pendingEvents, .. events];
        _pendingEvents.Clear();
        try
        {
            await (reminder is { } change ? state.WriteStateAsync(all, change) : state.WriteStateAsync(all));
        }
        catch
        {
            _pendingEvents.InsertRange(0, all.Take(all.Count - events.Count)); // not written: still pending
            throw;
        }
        _holdReminderDueAt = earliest;
        _commits++;
    }

    private Task CommitIfAnyAsync(List<JournalEvent> events) => events.Count == 0 ? Task.CompletedTask : CommitAsync(events);

    /// <summary>Writes the events if there are any; otherwise only brings the hold-expiry reminder in step.</summary>
    private Task CommitOrSyncAsync(List<JournalEvent> events) => events.Count == 0 ? SyncHoldReminderAsync() : CommitAsync(events);

    private JournalEvent Event<T>(T payload, string actor) =>
        new(CrewEvents.StreamOf(Id), typeof(T).Name, Now, actor, S.Location.ToString(), JsonSerializer.Serialize(payload));

    private JournalEvent BookingEvent(BookingRecord b, string actor) =>
        new(CrewEvents.StreamOf(Id), "Booking" + b.State, Now, actor, S.Location.ToString(),
            JsonSerializer.Serialize(new BookingChanged(b.Id, b.OrderId, b.SlotStart, b.State, b.HoldExpiresAt)));

    // ---- validation ----

    private void RequireRegistered()
    {
        if (S.Profile is null)
        {
            Unknown();
            throw new EntityNotFoundException("Crew", Id);
        }
    }

    private static void RequireActor(string actor)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new InvalidFieldException("actor", "The actor is required.");
        }
    }

    /// <summary>What <see cref="Register"/> refuses; the crews import checks every row with it before registering any.</summary>
    internal static void Validate(string id, CrewProfile profile, string actor)
    {
        if (!BookingId.IsValidCrewId(id))
        {
            throw new InvalidFieldException("id", BookingId.CrewIdRule);
        }
        RequireActor(actor);
        if (profile is null)
        {
            throw new InvalidFieldException("profile", "The crew profile is required.");
        }
        if (string.IsNullOrWhiteSpace(profile.Name))
        {
            throw new InvalidFieldException("name", "The crew name is required.");
        }
        if (string.IsNullOrWhiteSpace(profile.Region))
        {
            throw new InvalidFieldException("region", "The region is required.");
        }
        if (RegionNames.Problem(profile.Region) is { } problem)
        {
            throw new InvalidFieldException("region", $"region {problem}.");
        }
        if (profile.Skills is null || profile.Skills.Count == 0 || !profile.Skills.All(Enum.IsDefined))
        {
            throw new InvalidFieldException("skills", "At least one known skill is required.");
        }
        if (profile.Capacity is < 1 or > MaxCapacity)
        {
            throw new InvalidFieldException("capacity", $"Capacity must be between 1 and {MaxCapacity} orders.");
        }
        if (!profile.Home.IsValid)
        {
            throw new InvalidFieldException("home", "The home location must be a valid latitude and longitude.");
        }
        if (profile.Shifts is null || profile.Shifts.Count > MaxShifts)
        {
            throw new InvalidFieldException("shifts", $"A crew has at most {MaxShifts} shifts listed.");
        }
        for (var i = 0; i < profile.Shifts.Count; i++)
        {
            // A shift from year 1 to 9999 put the crew on shift for ever: dispatch kept sending it work.
            if (profile.Shifts[i] is not { } shift || shift.Start >= shift.End || shift.End - shift.Start > MaxShiftLength)
            {
                throw new InvalidFieldException($"shifts[{i}]", $"A shift starts before it ends and lasts at most {MaxShiftLength.TotalDays:0} days.");
            }
        }
    }

    private static void ValidateSlots(IReadOnlyList<TimeSlot> slots)
    {
        if (slots is null || slots.Count == 0)
        {
            throw new InvalidFieldException("slots", "At least one slot is required.");
        }
        for (var i = 0; i < slots.Count; i++)
        {
            if (slots[i] is null)
            {
                throw new InvalidFieldException($"slots[{i}]", "A slot is required here.");
            }
            if (slots[i].Start >= slots[i].End)
            {
                throw new InvalidFieldException($"slots[{i}].end", "The slot must end after it starts.");
            }
            if (slots[i].End - slots[i].Start is var length && (length < MinSlotLength || length > MaxSlotLength))
            {
                throw new InvalidFieldException($"slots[{i}].end", $"A slot lasts from {MinSlotLength.TotalMinutes:0} minutes to {MaxSlotLength.TotalHours:0} hours.");
            }
            if (slots[i].Capacity is < 0 or > MaxCapacity)
            {
                throw new InvalidFieldException($"slots[{i}].capacity", $"Slot capacity must be between 0 and {MaxCapacity}.");
            }
        }
        // The field named is the slot given later of the two that overlap, as the caller numbered them.
        var ordered = slots.Select((slot, index) => (slot, index)).OrderBy(s => s.slot.Start).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            if (ordered[i].slot.Start < ordered[i - 1].slot.End)
            {
                var (first, second) = ordered[i - 1].index < ordered[i].index ? (ordered[i - 1], ordered[i]) : (ordered[i], ordered[i - 1]);
                throw new InvalidFieldException(
                    $"slots[{second.index}].start", $"The slot at {second.slot.Start:O} overlaps slots[{first.index}] at {first.slot.Start:O}.");
            }
        }
    }

    private enum OrderHolding
    {
        Current,
        Queued,
    }
}
