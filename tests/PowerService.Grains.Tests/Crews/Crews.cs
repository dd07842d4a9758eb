using PowerService.Grains.Crews;
using PowerService.Grains.Tests.Dispatch;
using PowerService.Grains.Tests.Support;

namespace PowerService.Grains.Tests.Crews;

internal static class Crews
{
    public static CrewProfile Profile(int capacity = 3, CrewSkill skill = CrewSkill.LowVoltageRepair, string region = "north") =>
        new("Repair crew 1", region, [skill], capacity, Roster.At(0), [Roster.DayShift]);

    public static async Task<IFieldCrewGrain> RegisterAsync(WorkflowSilo silo, string id, CrewProfile? profile = null)
    {
        var crew = silo.Grain<IFieldCrewGrain>(id);
        await crew.Register(profile ?? Profile(), "dispatcher:li");
        return crew;
    }
}
