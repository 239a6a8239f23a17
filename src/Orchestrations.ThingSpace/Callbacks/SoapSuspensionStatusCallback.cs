using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Callbacks;

/// <summary>A legacy SOAP <c>CallbackRequest</c> of the DeviceSuspensionStatus service.</summary>
public sealed record SoapSuspensionStatusCallback
{
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? RequestId { get; init; }

    /// <summary>Present on per-device messages; null on the final message.</summary>
    public SoapDeviceSuspendStatus? DeviceSuspendStatus { get; init; }
    public CallbackFault? Fault { get; init; }
    public string? Comment { get; init; }
    public string? Status { get; init; }
    public int? CallbackCount { get; init; }
    public int? MaxCallbackThreshold { get; init; }

    /// <summary>True for the final "Request Completed Processing" message.</summary>
    public bool IsRequestCompleted =>
        Comment is not null && Comment.Contains("Request Completed", StringComparison.OrdinalIgnoreCase);

    /// <summary>Never prints the echoed password.</summary>
    public override string ToString() =>
        $"SoapSuspensionStatusCallback {{ RequestId = {RequestId}, Comment = {Comment}, CallbackCount = {CallbackCount} }}";
}

/// <summary>The per-device suspension data of a SOAP callback.</summary>
public sealed record SoapDeviceSuspendStatus
{
    public IReadOnlyList<DeviceId> Devices { get; init; } = [];
    public string? State { get; init; }

    /// <summary>"N/A" when not suspended; dates are <c>MM/DD/YYYY</c> in the documented example.</summary>
    public string? SuspendDate { get; init; }
    public string? ExpectedResumeDate { get; init; }
    public string? DaysRemainingAutoResume { get; init; }
    public int? MaxSuspendDaysAllowed { get; init; }
    public int? NumDaysSuspendedLast12Months { get; init; }
    public int? NumDaysSuspendAllowedCurrent12Months { get; init; }
    public int? TimesSuspendedLast12Months { get; init; }
    public CallbackFault? Fault { get; init; }
}

/// <summary>
/// Parses the legacy SOAP suspension-status callback (seed <c>get-device-suspension-status-soap.txt</c>). Element
/// names are matched by local name, ignoring namespaces and case. The documented example closes an element as
/// <c>&lt;/MaxCallbackThreshold/&gt;</c>; that typo is repaired before parsing. DTDs are refused.
/// </summary>
public static partial class SoapSuspensionStatusCallbackParser
{
    /// <summary>Parses the SOAP envelope or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static SoapSuspensionStatusCallback Parse(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        string repaired = MalformedEndTag().Replace(xml, "</$1>");
        XDocument document;
        try
        {
            XmlReaderSettings settings = new()
            {
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
                IgnoreComments = true,
            };
            using StringReader text = new(repaired);
            using XmlReader reader = XmlReader.Create(text, settings);
            document = XDocument.Load(reader);
        }
        catch (XmlException ex)
        {
            throw new FormatException(
                $"The SOAP suspension-status callback is not well-formed XML (line {ex.LineNumber}, position {ex.LinePosition}).",
                ex);
        }

        XElement request = Descendant(document.Root, "CallbackRequest")
            ?? throw new FormatException("The SOAP suspension-status callback has no CallbackRequest element.");

        XElement? data = request.Elements().FirstOrDefault(e => Is(e, "Data"));
        XElement? inner = data?.Elements().FirstOrDefault(e => Is(e, "Data")) ?? data;

        return new SoapSuspensionStatusCallback
        {
            Username = Text(Child(request, "Username")),
            Password = Text(Child(request, "Password")),
            RequestId = Text(Child(request, "RequestId")),
            DeviceSuspendStatus = ReadStatus(Child(inner, "DeviceSuspendStatus")),
            Fault = ReadFault(Child(inner, "Fault")),
            Comment = Text(Child(inner, "Comment")),
            Status = Text(Child(inner, "Status")),
            CallbackCount = Int(Child(inner, "CallbackCount"), "CallbackCount"),
            MaxCallbackThreshold = Int(Child(inner, "MaxCallbackThreshold"), "MaxCallbackThreshold"),
        };
    }

    private static SoapDeviceSuspendStatus? ReadStatus(XElement? element)
    {
        if (element is null || IsNil(element))
        {
            return null;
        }

        List<DeviceId> devices = [];
        foreach (XElement device in element.Elements().Where(e => Is(e, "Device")))
        {
            string? kind = Text(Child(device, "Kind"));
            string? id = Text(Child(device, "Identifier"));
            if (kind is null || id is null)
            {
                throw new FormatException("A Device element of the SOAP suspension-status callback lacks Kind or Identifier.");
            }

            devices.Add(new DeviceId { Id = id, Kind = kind });
        }

        return new SoapDeviceSuspendStatus
        {
            Devices = devices,
            State = Text(Child(element, "State")),
            SuspendDate = Text(Child(element, "SuspendDate")),
            ExpectedResumeDate = Text(Child(element, "ExpectedResumeDate")),
            DaysRemainingAutoResume = Text(Child(element, "DaysRemainingAutoResume")),
            MaxSuspendDaysAllowed = Int(Child(element, "MaxSuspendDaysAllowed"), "MaxSuspendDaysAllowed"),
            NumDaysSuspendedLast12Months = Int(Child(element, "NumDaysSuspendedLast12Months"), "NumDaysSuspendedLast12Months"),
            NumDaysSuspendAllowedCurrent12Months =
                Int(Child(element, "NumDaysSuspendAllowedCurrent12Months"), "NumDaysSuspendAllowedCurrent12Months"),
            TimesSuspendedLast12Months = Int(Child(element, "TimesSuspendedLast12Months"), "TimesSuspendedLast12Months"),
            Fault = ReadFault(Child(element, "Fault")),
        };
    }

    private static CallbackFault? ReadFault(XElement? element) =>
        element is null || IsNil(element)
            ? null
            : new CallbackFault
            {
                FaultCode = Text(Child(element, "faultcode")),
                FaultString = Text(Child(element, "faultstring")),
            };

    private static bool Is(XElement element, string localName) =>
        string.Equals(element.Name.LocalName, localName, StringComparison.OrdinalIgnoreCase);

    private static XElement? Child(XElement? parent, string localName) =>
        parent?.Elements().FirstOrDefault(e => Is(e, localName));

    private static XElement? Descendant(XElement? root, string localName) =>
        root is null ? null : root.DescendantsAndSelf().FirstOrDefault(e => Is(e, localName));

    private static bool IsNil(XElement element) =>
        element.Attributes().Any(a =>
            a.Name.LocalName == "nil" && string.Equals(a.Value.Trim(), "true", StringComparison.OrdinalIgnoreCase));

    private static string? Text(XElement? element)
    {
        if (element is null || IsNil(element))
        {
            return null;
        }

        string value = element.Value.Trim();
        return value.Length == 0 ? null : value;
    }

    private static int? Int(XElement? element, string name)
    {
        string? text = Text(element);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new FormatException($"The SOAP element {name} must be an integer, not '{text}'.");
    }

    [GeneratedRegex(@"</([A-Za-z_][\w.:-]*)\s*/>", RegexOptions.CultureInvariant)]
    private static partial Regex MalformedEndTag();
}
