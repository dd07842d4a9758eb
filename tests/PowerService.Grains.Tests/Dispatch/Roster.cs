using PowerService.Grains.Crews;
using PowerService.Grains.Dispatch;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Grains.Tests.Support;

namespace PowerService.Grains.Tests.Dispatch;

/// <summary>Crews and orders placed around a depot, kilometres east and north of it.</summary>
internal static class Roster
{
    public static readonly GeoPoint Depot = new(30.25, 120.15);

    private const double KmPerDegreeLatitude = 111.2;

    public static GeoPoint At(double eastKm, double northKm = 0) => new(
        Depot.Latitude + (northKm / KmPerDegreeLatitude),
        Depot.Longitude + (eastKm / (KmPerDegreeLatitude * Math.Cos(Depot.Latitude * Math.PI / 180))));

    /// <summary>A day shift around the test silo's Monday morning.</summary>
    public static readonly Shift DayShift = new(WorkflowSilo.MondayMorning.AddHours(-1), WorkflowSilo.MondayMorning.AddHours(8));

    public static readonly Shift NightShift = new(WorkflowSilo.MondayMorning.AddHours(10), WorkflowSilo.MondayMorning.AddHours(20));

    public static CrewSnapshot Crew(
        string id, GeoPoint location, CrewSkill skill = CrewSkill.LowVoltageRepair, int capacity = 3, int load = 0,
        CrewStatus status = CrewStatus.Available, Shift? shift = null) =>
        new(id, [skill], [shift ?? DayShift], status, location, capacity, load, []);

    public static DispatchRequest Order(
        string id, GeoPoint location, WorkOrderKind kind = WorkOrderKind.FaultRepair, WorkOrderPriority priority = WorkOrderPriority.Normal,
        TimeSpan? dueIn = null, params string[] excluded) =>
        new(id, kind, priority, location, WorkflowSilo.MondayMorning + (dueIn ?? TimeSpan.FromHours(2)), excluded);
}
