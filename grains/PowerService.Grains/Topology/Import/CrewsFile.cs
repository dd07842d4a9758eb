using PowerService.Grains.Crews;

namespace PowerService.Grains.Topology.Import;

/// <summary>The crews file: one row per field crew, registered through <see cref="IFieldCrewGrain.Register"/> once the
/// whole file has checked out. Shifts are a daily pattern (start, end in China Standard Time, UTC+8, no daylight
/// saving); the crew gets that shift for each of the next <see cref="ShiftDays"/> days from the import date, an end
/// at or before the start meaning the shift ends the next morning.</summary>
internal static class CrewsFile
{
    public const int ShiftDays = 7;
    private static readonly TimeSpan ChinaStandardTime = TimeSpan.FromHours(8);
    private static readonly char[] SkillSeparators = [';', '|'];

    public static IReadOnlyList<CsvColumn> Columns { get; } =
    [
        new("crew_id"), new("name"), new("region"), new("skills"), new("capacity"), new("home_latitude"), new("home_longitude"),
        new("shift_start"), new("shift_end"),
    ];

    public static (string Id, CrewProfile Profile) Read(CsvRow row, DateTimeOffset now)
    {
        var id = row.Id("crew_id");
        var name = row.Text("name");
        var region = row.Region("region");
        var skills = Skills(row);
        var capacity = row.Integer("capacity", 1, 50);
        var home = new GeoPoint(row.Latitude("home_latitude"), row.Longitude("home_longitude"));
        var start = row.TimeOfDay("shift_start");
        var end = row.TimeOfDay("shift_end");
        return (id, new CrewProfile(name, region, skills, capacity, home, Shifts(start, end, now)));
    }

    /// <summary>Whether the crew grain will take the row's crew, checked with the grain's own rules (the file is
    /// registered only when every row passes, so none is registered before a later one is refused); a refusal is the
    /// row's error in the column it comes from.</summary>
    public static bool Registrable(CsvRow row, (string Id, CrewProfile Profile) crew, string actor)
    {
        try
        {
            FieldCrewGrain.Validate(crew.Id, crew.Profile, actor);
            return true;
        }
        catch (InvalidFieldException refused)
        {
            row.Error(refused.Field switch
            {
                "id" => "crew_id",
                "home" => "home_latitude",
                var shifts when shifts.StartsWith("shifts", StringComparison.Ordinal) => "shift_start",
                var field => field,
            }, refused.Message);
            return false;
        }
    }

    private static List<CrewSkill> Skills(CsvRow row)
    {
        var text = row.Text("skills");
        var skills = new List<CrewSkill>();
        foreach (var name in text.Split(SkillSeparators, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (EnumNames.TryParse<CrewSkill>(name, out var skill))
            {
                if (!skills.Contains(skill))
                {
                    skills.Add(skill);
                }
            }
            else
            {
                row.Error("skills", $"'{name}' is not one of {string.Join(", ", Enum.GetNames<CrewSkill>())} (separate skills with ';' or '|')");
            }
        }
        if (text.Length > 0 && skills.Count == 0 && row.IsValid)
        {
            row.Error("skills", "names no skill");
        }
        return skills;
    }

    private static List<Shift> Shifts(TimeOnly start, TimeOnly end, DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.ToOffset(ChinaStandardTime).DateTime);
        var shifts = new List<Shift>(ShiftDays + 1);
        // From yesterday: a night shift that began yesterday evening is still on when the file is imported after midnight.
        for (var day = -1; day < ShiftDays; day++)
        {
            var date = today.AddDays(day);
            var from = new DateTimeOffset(date.ToDateTime(start), ChinaStandardTime);
            var to = new DateTimeOffset((end > start ? date : date.AddDays(1)).ToDateTime(end), ChinaStandardTime);
            if (to > now)
            {
                shifts.Add(new Shift(from, to));
            }
        }
        return shifts;
    }
}
