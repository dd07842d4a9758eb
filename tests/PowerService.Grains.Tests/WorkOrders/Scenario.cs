using PowerService.Grains.Crews;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;

namespace PowerService.Grains.Tests.WorkOrders;

/// <summary>Orders, crews and commands as the command center and the PDAs send them.</summary>
internal static class Scenario
{
    public const string Region = "north";

    /// <summary>A region where no crew works: orders created there wait for an explicit assignment.</summary>
    public const string QuietRegion = "quiet";

    public const string Agent = "agent:wang";
    public const string Dispatcher = "dispatcher:li";

    public static readonly GeoPoint Depot = new(30.25, 120.15);

    /// <summary>A point <paramref name="eastKm"/> east of the depot.</summary>
    public static GeoPoint East(double eastKm) => new(Depot.Latitude, Depot.Longitude + (eastKm / (111.2 * Math.Cos(Depot.Latitude * Math.PI / 180))));

    public static NewWorkOrder Fault(string region = Region, AreaClass area = AreaClass.Urban, GeoPoint? location = null) =>
        new(WorkOrderKind.FaultRepair, IntakeChannel.Hotline95598, Agent, "No power in the whole building", Region: region, Location: location ?? Depot, AreaClass: area);

    public static NewWorkOrder OfKind(WorkOrderKind kind, string region = QuietRegion, ConnectionCategory? category = null) =>
        new(kind, IntakeChannel.App, Agent, $"{kind} request", Region: region, Location: Depot, AreaClass: AreaClass.Urban, ConnectionCategory: category);

    /// <summary>Registers a crew on shift for a month around the test silo's start, at <paramref name="home"/>.</summary>
    public static Task<CrewView> RegisterCrew(WorkflowSilo silo, string id, string region = Region, GeoPoint? home = null, int capacity = 20) =>
        silo.Grain<IFieldCrewGrain>(id).Register(
            new CrewProfile($"Crew {id}", region, [CrewSkill.LowVoltageRepair, CrewSkill.Metering, CrewSkill.Connection, CrewSkill.Survey, CrewSkill.CustomerService],
                capacity, home ?? Depot, [new Shift(WorkflowSilo.MondayMorning.AddDays(-1), WorkflowSilo.MondayMorning.AddDays(30))]),
            "ops:admin");

    /// <summary>Crew <paramref name="crewId"/> on shift with one two-hour slot of <paramref name="capacity"/> places
    /// tomorrow morning.</summary>
    public static async Task<(IFieldCrewGrain Crew, DateTimeOffset Slot)> CrewWithSlot(WorkflowSilo silo, string crewId = "c1", int capacity = 1)
    {
        await RegisterCrew(silo, crewId);
        var slot = WorkflowSilo.MondayMorning.AddDays(1);
        var crew = silo.Grain<IFieldCrewGrain>(crewId);
        await crew.PublishSlots([new TimeSlot(slot, slot.AddHours(2), capacity)], "crew:" + crewId);
        return (crew, slot);
    }

    /// <summary>A new order of <paramref name="kind"/> with a visit booked (held and confirmed) in <paramref name="slot"/>.</summary>
    public static async Task<(IWorkOrderGrain Order, Booking Booking)> BookedVisit(
        WorkflowSilo silo, IFieldCrewGrain crew, DateTimeOffset slot, string orderId = "o-1", WorkOrderKind kind = WorkOrderKind.OnSiteSurvey)
    {
        var order = silo.Grain<IWorkOrderGrain>(orderId);
        await order.Create(OfKind(kind));
        var booking = await crew.Hold(new BookingRequest(orderId, slot, Agent));
        await order.Apply(new WorkOrderCommand(WorkOrderAction.Reserve, Agent, TargetId: booking.Id));
        return (order, booking);
    }

    public static WorkOrderCommand ByCrew(WorkOrderAction action, string crewId) => new(action, "crew:" + crewId, Depot, CrewId: crewId);

    public static WorkOrderCommand ByDispatcher(WorkOrderAction action, string? targetId = null) => new(action, Dispatcher, TargetId: targetId);

    public static async Task<List<string>> EventTypes(IWorkOrderGrain order) => [.. (await order.GetHistory()).Select(e => e.Type)];

    /// <summary>Takes an order the crew holds from Dispatched to CallbackPending.</summary>
    public static async Task<WorkOrderView> Complete(IWorkOrderGrain order, string crewId)
    {
        await order.Apply(ByCrew(WorkOrderAction.Accept, crewId));
        await order.Apply(ByCrew(WorkOrderAction.StartTravel, crewId));
        await order.Apply(ByCrew(WorkOrderAction.Arrive, crewId));
        return await order.Apply(ByCrew(WorkOrderAction.Resolve, crewId));
    }
}
