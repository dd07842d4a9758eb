using System.Globalization;
using System.Text;

namespace PowerService.TestSupport.Topology;

/// <summary>How big a generated topology is. From the customer count: one meter per customer, about 50 customers per
/// transformer area, 40 areas per feeder (at least 5 feeders), 5 feeders per service grid, a crew per 100 areas, and a
/// supply meter (台区总表) per area.</summary>
public sealed record TopologySampleSize(int Customers)
{
    public int TransformerAreas => Math.Max(1, (Customers + 49) / 50);
    public int Feeders => Math.Max(Math.Min(5, TransformerAreas), TransformerAreas / 40);
    public int Grids => Math.Max(1, (Feeders + 4) / 5);
    public int Crews => Math.Max(3, TransformerAreas / 100);
    public int Meters => Customers;
    public int SupplyMeters => TransformerAreas;
}

/// <summary>Writes a realistic topology for Haikou and the counties around it as the six import files: urban
/// districts, rural and remote counties, ~1% important and 0.1% critical customers (hospitals, water works), ids like
/// TA-000123. Deterministic: the same size gives the same files, so a sample is generated, never committed.</summary>
public static class TopologySample
{
    /// <summary>The files in import order (parents first).</summary>
    public static readonly IReadOnlyList<string> Files =
        ["feeders.csv", "grids.csv", "transformer-areas.csv", "meters.csv", "customers.csv", "crews.csv"];

    private static readonly Region[] Regions =
    [
        new("海口龙华", Urban, 20.030, 110.330, 0.03), new("海口美兰", Urban, 20.030, 110.400, 0.04),
        new("海口秀英", Urban, 20.000, 110.260, 0.04), new("海口琼山", Urban, 19.980, 110.360, 0.04),
        new("澄迈", Rural, 19.740, 110.000, 0.15), new("定安", Rural, 19.680, 110.330, 0.15),
        new("琼中", Remote, 19.030, 109.840, 0.25), new("五指山", Remote, 18.780, 109.520, 0.25),
    ];

    private const string Urban = "urban";
    private const string Rural = "rural";
    private const string Remote = "remote";
    private const string Surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾符吉云";
    private const string GivenNames = "建国华明丽芳海军伟强秀英敏静磊洋勇艳杰娟涛超霞平刚桂兰玉梅志红文辉亮";
    private static readonly string[] Streets = ["椰海大道", "滨海大道", "海府路", "龙昆南路", "南海大道", "国兴大道", "金盘路", "白龙南路", "府城镇", "新坡镇", "永兴镇", "石山镇"];
    private static readonly string[] CriticalCustomers = ["人民医院", "自来水厂", "供水加压站", "急救中心", "污水处理厂"];
    private static readonly string[] ImportantCustomers = ["中学", "小学", "区政府", "商场", "酒店", "通信基站", "燃气站"];
    private static readonly string[] SkillSets =
        ["LowVoltageRepair;Metering", "LowVoltageRepair;HighVoltageRepair", "Metering;Connection;Survey", "LowVoltageRepair;CustomerService"];

    /// <summary>Writes the six files of <paramref name="size"/> into <paramref name="folder"/> (created if missing).</summary>
    public static void WriteToFolder(TopologySampleSize size, string folder)
    {
        Directory.CreateDirectory(folder);
        Write(size, name => new StreamWriter(Path.Combine(folder, name), append: false, new UTF8Encoding(false), 1 << 16));
    }

    /// <summary>The six files of <paramref name="size"/> in memory, by file name (small sizes only).</summary>
    public static IReadOnlyDictionary<string, string> WriteToMemory(TopologySampleSize size)
    {
        var files = new Dictionary<string, StringWriter>(StringComparer.Ordinal);
        Write(size, name => files[name] = new StringWriter(CultureInfo.InvariantCulture));
        return files.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
    }

    /// <summary>Writes each file to the writer <paramref name="open"/> gives for its name, and disposes it.</summary>
    public static void Write(TopologySampleSize size, Func<string, TextWriter> open)
    {
        ArgumentNullException.ThrowIfNull(size);
        ArgumentNullException.ThrowIfNull(open);
        var layout = new Layout(size);
        using (var feeders = open("feeders.csv"))
        {
            WriteFeeders(feeders, layout);
        }
        using (var grids = open("grids.csv"))
        {
            WriteGrids(grids, layout, new Random(1));
        }
        using (var areas = open("transformer-areas.csv"))
        {
            WriteAreas(areas, layout, new Random(2));
        }
        using (var meters = open("meters.csv"))
        {
            WriteMeters(meters, layout, new Random(3));
        }
        using (var customers = open("customers.csv"))
        {
            WriteCustomers(customers, layout, new Random(4));
        }
        using (var crews = open("crews.csv"))
        {
            WriteCrews(crews, layout, new Random(5));
        }
    }

    private static void WriteFeeders(TextWriter writer, Layout layout)
    {
        writer.WriteLine("feeder_id,name,substation_id,substation_name,region");
        for (var f = 0; f < layout.Size.Feeders; f++)
        {
            var region = layout.RegionOfFeeder(f);
            var substation = f / 8 + 1;
            Line(writer, $"FD-{f + 1:000000},{region.Name}{900 + f % 100}线,SS-{substation:0000},{region.Name}{substation}号110kV变电站,{region.Name}");
        }
    }

    private static void WriteGrids(TextWriter writer, Layout layout, Random random)
    {
        writer.WriteLine("grid_id,name,region,manager_name,manager_phone");
        for (var g = 0; g < layout.Size.Grids; g++)
        {
            var region = layout.RegionOfGrid(g);
            Line(writer, $"GR-{g + 1:0000},{region.Name}第{g + 1}网格,{region.Name},{PersonName(random)},{Phone(random)}");
        }
    }

    private static void WriteAreas(TextWriter writer, Layout layout, Random random)
    {
        writer.WriteLine("area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva");
        for (var a = 0; a < layout.Size.TransformerAreas; a++)
        {
            var feeder = layout.FeederOfArea(a);
            var region = layout.RegionOfFeeder(feeder);
            var (lat, lon) = layout.AreaLocation(a);
            var capacity = region.AreaClass switch { Urban => random.Next(2) == 0 ? 400 : 630, Rural => random.Next(2) == 0 ? 200 : 315, _ => 100 };
            Line(writer, $"TA-{a + 1:000000},{Streets[a % Streets.Length]}{a + 1}号台区,FD-{feeder + 1:000000},GR-{feeder / 5 + 1:0000},{region.Name},{region.AreaClass},{lat:0.000000},{lon:0.000000},{capacity}");
        }
    }

    private static void WriteMeters(TextWriter writer, Layout layout, Random random)
    {
        writer.WriteLine("meter_id,area_id,latitude,longitude,role");
        for (var m = 0; m < layout.Size.Meters; m++)
        {
            var (lat, lon) = Near(layout.AreaLocation(m / 50), 0.002, random);
            Line(writer, $"MT-{m + 1:0000000},TA-{m / 50 + 1:000000},{lat:0.000000},{lon:0.000000},");
        }
        // The supply meter stands at the transformer; listed after the customer meters so theirs stay as they were.
        for (var a = 0; a < layout.Size.SupplyMeters; a++)
        {
            var (lat, lon) = layout.AreaLocation(a);
            Line(writer, $"SM-{a + 1:000000},TA-{a + 1:000000},{lat:0.000000},{lon:0.000000},supply");
        }
    }

    private static void WriteCustomers(TextWriter writer, Layout layout, Random random)
    {
        writer.WriteLine("customer_id,name,phone,meter_id,importance,area_class,latitude,longitude");
        for (var c = 0; c < layout.Size.Customers; c++)
        {
            var (lat, lon) = Near(layout.AreaLocation(c / 50), 0.002, random);
            var region = layout.RegionOfFeeder(layout.FeederOfArea(c / 50));
            var (name, importance) = (c % 1000, c % 100) switch
            {
                (999, _) => ($"{region.Name}{CriticalCustomers[c / 1000 % CriticalCustomers.Length]}", "critical"),
                (_, 49) => ($"{region.Name}{ImportantCustomers[c / 100 % ImportantCustomers.Length]}", "important"),
                _ => (PersonName(random), "ordinary"),
            };
            // One in ten has left no phone number; names with a comma would be quoted, as RFC 4180 says.
            var phone = random.Next(10) == 0 ? "" : Phone(random);
            Line(writer, $"CU-{c + 1:0000000},{name},{phone},MT-{c + 1:0000000},{importance},,{lat:0.000000},{lon:0.000000}");
        }
    }

    private static void WriteCrews(TextWriter writer, Layout layout, Random random)
    {
        writer.WriteLine("crew_id,name,region,skills,capacity,home_latitude,home_longitude,shift_start,shift_end");
        for (var c = 0; c < layout.Size.Crews; c++)
        {
            var region = Regions[c % Regions.Length];
            var (lat, lon) = Near((region.Latitude, region.Longitude), region.Radius / 2, random);
            var (start, end) = c % 3 == 2 ? ("20:00", "08:00") : ("08:00", "20:00");
            Line(writer, $"CR-{c + 1:0000},{region.Name}抢修{c + 1}班,{region.Name},{SkillSets[c % SkillSets.Length]},{2 + c % 3},{lat:0.000000},{lon:0.000000},{start},{end}");
        }
    }

    private static void Line(TextWriter writer, FormattableString line) => writer.WriteLine(line.ToString(CultureInfo.InvariantCulture));

    private static string PersonName(Random random) =>
        string.Concat(Surnames[random.Next(Surnames.Length)], GivenNames[random.Next(GivenNames.Length)], random.Next(2) == 0 ? "" : GivenNames[random.Next(GivenNames.Length)].ToString());

    private static string Phone(Random random) => string.Create(CultureInfo.InvariantCulture, $"1{random.Next(30, 90)}{random.Next(0, 100_000_000):00000000}");

    private static (double Latitude, double Longitude) Near((double Latitude, double Longitude) center, double radius, Random random) =>
        (center.Latitude + (random.NextDouble() * 2 - 1) * radius, center.Longitude + (random.NextDouble() * 2 - 1) * radius);

    private sealed record Region(string Name, string AreaClass, double Latitude, double Longitude, double Radius);

    /// <summary>Who hangs on what: areas fill feeders in order, feeders fill grids, a grid lies in one region (60% of
    /// grids urban, 30% rural, 10% remote), areas scatter around their region's centre.</summary>
    private sealed class Layout(TopologySampleSize size)
    {
        public TopologySampleSize Size { get; } = size;

        public Region RegionOfGrid(int grid)
        {
            var slot = grid % 10;
            return slot < 6 ? Regions[grid % 4] : slot < 9 ? Regions[4 + grid % 2] : Regions[6 + grid / 10 % 2];
        }

        public Region RegionOfFeeder(int feeder) => RegionOfGrid(feeder / 5);

        public int FeederOfArea(int area) => (int)((long)area * Size.Feeders / Size.TransformerAreas);

        private (double Latitude, double Longitude)[]? _areaLocations;

        public (double Latitude, double Longitude) AreaLocation(int area) => (_areaLocations ??= AreaLocations())[area];

        private (double Latitude, double Longitude)[] AreaLocations()
        {
            var random = new Random(6);
            return [.. Enumerable.Range(0, Size.TransformerAreas).Select(area =>
            {
                var region = RegionOfFeeder(FeederOfArea(area));
                return Near((region.Latitude, region.Longitude), region.Radius, random);
            })];
        }
    }
}
